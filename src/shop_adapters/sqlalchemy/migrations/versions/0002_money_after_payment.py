"""Money after the payment: the order's paid, refunded and held amounts; the ledger's
movements (who started them, where they stand); idempotency keys that remember answers.

Revision ID: 0002
Revises: 0003
Create Date: 2026-12-03 14:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_STATUSES = ("pending", "success", "failed", "timeout", "cancelled")
_NEW_STATUSES = ("authorized", "refunded", "voided")
# Callback outcomes that took the payment's money (see shop_core.callbacks.Decision).
_TOOK_MONEY = "('paid', 'late_paid', 'needs_refund')"


def _status_check(statuses: Sequence[str]) -> str:
    return "status IN (" + ", ".join(f"'{status}'" for status in statuses) + ")"


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        for name in ("paid_amount", "refunded_amount", "held_amount"):
            batch.add_column(sa.Column(name, sa.BigInteger(), nullable=False,
                                       server_default="0"))
        batch.drop_constraint(op.f("ck_orders_status_known"), type_="check")
        batch.create_check_constraint("status_known",
                                      _status_check(_OLD_STATUSES + _NEW_STATUSES))
        batch.create_check_constraint(
            "amounts_not_negative",
            "held_amount >= 0 AND refunded_amount >= 0 AND paid_amount >= 0")
    op.create_index("ix_orders_held_amount", "orders", ["held_amount"],
                    postgresql_where=sa.text("held_amount > 0"),
                    sqlite_where=sa.text("held_amount > 0"))

    with op.batch_alter_table("payment_events") as batch:
        batch.alter_column("transaction_id", existing_type=sa.String(64), nullable=True)
        batch.alter_column("outcome", existing_type=sa.String(32), nullable=True)
        batch.add_column(sa.Column("movement", sa.String(16), nullable=False,
                                   server_default="payment"))
        batch.add_column(sa.Column("result", sa.String(16), nullable=False,
                                   server_default="failed"))
        batch.add_column(sa.Column("started_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("parent_transaction_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("restock", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("reason", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(op.f("fk_payment_events_started_by_users"), "users",
                                 ["started_by"], ["id"])
    # The ledger so far: reversals were recorded, never counted; payments counted when
    # their callback took the money. The orders' sums follow from it.
    op.execute("UPDATE payment_events SET movement = CASE "
               "WHEN is_reversal THEN 'refund' ELSE 'payment' END, "
               "result = CASE WHEN pending THEN 'pending' "
               f"WHEN success AND outcome IN {_TOOK_MONEY} THEN 'succeeded' "
               "ELSE 'failed' END")
    op.execute("UPDATE payment_events SET result = 'failed' WHERE is_reversal")
    op.execute("UPDATE orders SET paid_amount = (SELECT COALESCE(SUM(amount), 0) "
               "FROM payment_events WHERE payment_events.order_id = orders.id "
               "AND payment_events.result = 'succeeded')")
    with op.batch_alter_table("payment_events") as batch:
        for name in ("movement", "result", "restock", "reason"):
            batch.alter_column(name, server_default=None)

    # Keys live a day; the old ones remember an order, not an answer to replay.
    op.execute("DELETE FROM idempotency_keys")
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_constraint(op.f("fk_idempotency_keys_order_id_orders"), type_="foreignkey")
        batch.drop_column("order_id")
        batch.add_column(sa.Column("status", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("body", sa.Text(), nullable=True))
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.execute("DELETE FROM idempotency_keys")
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("body")
        batch.drop_column("status")
        batch.add_column(sa.Column("order_id", sa.Integer(), nullable=False))
        batch.create_foreign_key(op.f("fk_idempotency_keys_order_id_orders"), "orders",
                                 ["order_id"], ["id"])
    op.execute("DELETE FROM payment_events WHERE transaction_id IS NULL")
    op.execute("UPDATE orders SET status = 'success' WHERE status = 'authorized'")
    op.execute("UPDATE orders SET status = 'timeout' WHERE status IN ('refunded', 'voided')")
    with op.batch_alter_table("payment_events") as batch:
        batch.drop_constraint(op.f("fk_payment_events_started_by_users"), type_="foreignkey")
        for name in ("updated_at", "reason", "restock", "parent_transaction_id",
                     "started_by", "result", "movement"):
            batch.drop_column(name)
        batch.alter_column("outcome", existing_type=sa.String(32), nullable=False)
        batch.alter_column("transaction_id", existing_type=sa.String(64), nullable=False)
    op.drop_index("ix_orders_held_amount", table_name="orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint(op.f("ck_orders_amounts_not_negative"), type_="check")
        batch.drop_constraint(op.f("ck_orders_status_known"), type_="check")
        batch.create_check_constraint("status_known", _status_check(_OLD_STATUSES))
        for name in ("held_amount", "refunded_amount", "paid_amount"):
            batch.drop_column(name)
