"""The back-office: a product's edit version, the stock audit trail, the duties' last runs.

Revision ID: 0006
Revises: 0002
Create Date: 2026-12-03 14:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False,
                                   server_default="1"))
    op.create_table(
        "stock_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("before", sa.Integer(), nullable=False),
        sa.Column("after", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=True),
        sa.CheckConstraint("kind IN ('created', 'adjusted', 'set')",
                           name=op.f("ck_stock_audit_kind_known")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"],
                                name=op.f("fk_stock_audit_product_id_products")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_stock_audit_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_audit")),
        sa.UniqueConstraint("request_key", name=op.f("uq_stock_audit_request_key")),
    )
    op.create_index("ix_stock_audit_product_id_id", "stock_audit", ["product_id", "id"])
    op.create_table(
        "duty_runs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_duty_runs")),
    )


def downgrade() -> None:
    op.drop_table("duty_runs")
    op.drop_index("ix_stock_audit_product_id_id", table_name="stock_audit")
    op.drop_table("stock_audit")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("version")
