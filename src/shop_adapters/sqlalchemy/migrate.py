"""Alembic migrations shipped inside the package, run without an alembic.ini."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from shop_adapters.sqlalchemy.database import Database
from shop_adapters.sqlalchemy.uow import SQLITE_BEGIN_OPTION

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# Any constant shared by every process of the shop: concurrent upgrades (several servers
# starting at once) wait for each other on PostgreSQL instead of racing to create tables.
_UPGRADE_LOCK_KEY = 0x5_40_9_0001


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration pointing at the packaged migrations (for `command.*`)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # ConfigParser interpolation would choke on a '%' in a password.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply every migration up to `revision` (default: the latest) to the database."""
    database = Database(url)
    try:
        connection = database.engine.connect()
        if database.is_sqlite:
            # Batch migrations recreate tables that others refer to, which SQLite allows
            # only with its foreign keys off; a transaction cannot turn them off, so this
            # comes first (the connection is discarded with the engine afterwards), and the
            # keys are checked before the commit instead.
            raw = connection.connection.driver_connection
            assert raw is not None
            raw.execute("PRAGMA foreign_keys=OFF")
            connection = connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        with connection, connection.begin():
            if database.is_postgresql:
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": _UPGRADE_LOCK_KEY})
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            if database.is_sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"The migration broke foreign keys: {broken[:5]}")
    finally:
        database.dispose()


def current(url: str) -> str | None:
    """The revision the database is at, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    database = Database(url)
    try:
        with database.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        database.dispose()
