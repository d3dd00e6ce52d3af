"""The packaged migrations build exactly the schema the tables describe."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shop_adapters.sqlalchemy.database import Database
from shop_adapters.sqlalchemy.migrate import current, upgrade
from shop_adapters.sqlalchemy.tables import metadata


def test_upgrade_from_empty_reaches_head_with_every_table(database_url: str) -> None:
    assert current(database_url) is None
    upgrade(database_url)
    assert current(database_url) == "0005"
    database = Database(database_url)
    try:
        tables = set(sa.inspect(database.engine).get_table_names())
    finally:
        database.dispose()
    assert set(metadata.tables) <= tables


def test_upgrade_twice_changes_nothing(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)
    assert current(database_url) == "0005"


def test_migrated_schema_matches_the_tables(database_url: str) -> None:
    upgrade(database_url)
    database = Database(database_url)
    try:
        with database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
    finally:
        database.dispose()
    assert differences == []


def test_upgrading_a_shop_with_orders_gives_each_the_sums_of_its_ledger(
        database_url: str) -> None:
    upgrade(database_url, "0001")
    database = Database(database_url)
    now = "2026-01-01 12:00:00"
    try:
        with database.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO users (id, username, email, first_name, last_name, is_staff,"
                " password_hash, date_joined) VALUES (1, 'a', 'a@example.com', '', '',"
                f" false, 'x', '{now}')"))
            for order_id, status in ((1, "success"), (2, "pending")):
                conn.execute(sa.text(
                    "INSERT INTO orders (id, user_id, status, currency, expires_at,"
                    f" needs_refund, created_at, updated_at) VALUES ({order_id}, 1,"
                    f" '{status}', 'EGP', '{now}', false, '{now}', '{now}')"))
            for tid, outcome, reversal in (("t1", "paid", False),
                                           ("t2", "reversal_recorded", True),
                                           ("t3", "declined", False)):
                conn.execute(sa.text(
                    "INSERT INTO payment_events (transaction_id, order_id, amount, currency,"
                    " success, pending, is_reversal, outcome, received_at) VALUES"
                    f" ('{tid}', 1, 5000, 'EGP', {str(outcome != 'declined').lower()}, false,"
                    f" {str(reversal).lower()}, '{outcome}', '{now}')"))
        upgrade(database_url)
        with database.engine.connect() as conn:
            sums = conn.execute(sa.text(
                "SELECT id, paid_amount, refunded_amount, held_amount FROM orders"
                " ORDER BY id")).all()
            results = conn.execute(sa.text(
                "SELECT transaction_id, movement, result FROM payment_events"
                " ORDER BY id")).all()
    finally:
        database.dispose()
    assert [tuple(row) for row in sums] == [(1, 5000, 0, 0), (2, 0, 0, 0)]
    assert [tuple(row) for row in results] == [
        ("t1", "payment", "succeeded"), ("t2", "refund", "failed"),
        ("t3", "payment", "failed")]
