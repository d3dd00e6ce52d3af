"""Seeding many orders at once, for the expiry volume tests (PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from shop_adapters.sqlalchemy.database import Database


def seed_overdue_orders(db: Database, user_id: int, product_ids: list[int], count: int,
                        now: datetime) -> int:
    """`count` pending orders due at `now`, each with one line per product (quantity 1-3),
    as if their stock had been reserved; returns the units they hold in all."""
    assert db.is_postgresql
    with db.engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO orders (user_id, status, currency, expires_at, needs_refund,"
            " created_at, updated_at)"
            " SELECT :user_id, 'pending', 'EGP', :due, false, :created, :created"
            " FROM generate_series(1, :count)"),
            {"user_id": user_id, "due": now, "created": now - timedelta(minutes=10),
             "count": count})
        connection.execute(sa.text(
            "INSERT INTO order_lines (order_id, product_id, name, unit_price, quantity)"
            " SELECT o.id, p.id, 'Seeded', 1000, 1 + (o.id + p.id) % 3"
            " FROM orders o CROSS JOIN unnest(CAST(:products AS integer[])) AS p(id)"),
            {"products": product_ids})
        connection.execute(sa.text("ANALYZE orders; ANALYZE order_lines"))
        held = connection.execute(sa.text("SELECT sum(quantity) FROM order_lines")).scalar_one()
    return int(held)
