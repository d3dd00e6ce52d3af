"""Cancelled orders, a payment under way (state and reference), and when reconciliation
last asked the provider about an order's payment.

Revision ID: 0003
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BEFORE = ("pending", "success", "failed", "timeout")
_AFTER = (*_BEFORE, "cancelled")


def _status_check(statuses: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{status}'" for status in statuses) + ")"


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("payment_state", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("payment_reference", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("payment_checked_at", sa.DateTime(timezone=True),
                                   nullable=True))
        batch.drop_constraint(op.f("ck_orders_status_known"), type_="check")
        batch.create_check_constraint(op.f("ck_orders_status_known"), _status_check(_AFTER))


def downgrade() -> None:
    op.execute("UPDATE orders SET status = 'timeout' WHERE status = 'cancelled'")
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint(op.f("ck_orders_status_known"), type_="check")
        batch.create_check_constraint(op.f("ck_orders_status_known"), _status_check(_BEFORE))
        batch.drop_column("payment_checked_at")
        batch.drop_column("payment_reference")
        batch.drop_column("payment_state")
