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
