"""Paymob's markets and methods: the customer's phone, and the payment method an order was
opened with (null: the methods with the default payment window).

Revision ID: 0004
Revises: 0001
Create Date: 2026-12-03 14:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable columns without defaults: adding them rewrites no rows on either database.
    op.add_column("users", sa.Column("phone_number", sa.String(length=16), nullable=True))
    op.add_column("orders", sa.Column("payment_method", sa.String(length=32), nullable=True))


def downgrade() -> None:
    # SQLite drops a column by copying the table, which batch mode does for it.
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("payment_method")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("phone_number")
