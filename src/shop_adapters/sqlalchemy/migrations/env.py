"""Alembic environment: runs on the connection `migrate.upgrade` passes in, or on a fresh
engine for the `sqlalchemy.url` option (for `alembic` commands during development)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from shop_adapters.sqlalchemy.database import Database
from shop_adapters.sqlalchemy.tables import metadata

config = context.config


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode recreates the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata,
                      literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif (given := config.attributes.get("connection")) is not None:
    run(given)
else:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("Set sqlalchemy.url, or call shop_adapters.sqlalchemy.migrate")
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            run(connection)
            connection.commit()
    finally:
        database.dispose()
