"""A server restart costs at most the statements in flight, never the pool: no pre-ping."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shop_adapters.sqlalchemy.database import Database
from shop_core.errors import Unavailable

from .support import add_product, stock_of


def _kill_every_shop_connection(db: Database) -> int:
    """What a server restart does to the pools: every connection of this database dies.
    Each kill waits (up to 5 s) until the backend has exited, as a restart's would have by
    the time anything reconnects: a signal still on its way would leave the connection alive
    at checkout and kill it mid-statement."""
    admin = sa.create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            return len(connection.execute(sa.text(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()")).all())
    finally:
        admin.dispose()


def test_after_a_restart_no_unit_of_work_gets_a_dead_connection(pg_db: Database) -> None:
    product = add_product(pg_db, stock=3)
    # Fill both pools (read-write and read-only) with idle connections about to go stale.
    units = [pg_db.unit_of_work(read_only=read_only)
             for read_only in (False, True) for _ in range(3)]
    for uow in units:
        uow.__enter__()
        assert uow.products.get(product.id or 0) is not None
    for uow in units:
        uow.__exit__(None, None, None)
    assert _kill_every_shop_connection(pg_db) >= 6

    # Each checkout notices its connection was closed and opens a fresh one instead.
    for read_only in (False, True):
        for _ in range(4):
            with pg_db.unit_of_work(read_only=read_only) as uow:
                assert uow.products.get(product.id or 0) is not None
    assert not pg_db.outage.is_down
    assert stock_of(pg_db, product.id or 0) == 3


def test_a_connection_lost_mid_transaction_is_unavailable_and_not_reused(
        pg_db: Database) -> None:
    product = add_product(pg_db, stock=3)
    with pytest.raises(Unavailable) as failed, pg_db.unit_of_work() as uow:
        assert uow.products.get(product.id or 0) is not None
        _kill_every_shop_connection(pg_db)
        uow.products.get(product.id or 0)
    cause = failed.value.__cause__
    assert isinstance(cause, sa.exc.DBAPIError) and cause.connection_invalidated
    with pg_db.unit_of_work() as uow:  # the next one works on a fresh connection
        assert uow.products.get(product.id or 0) is not None
    assert not pg_db.outage.is_down  # that it answered again closed the outage


def test_writers_beyond_the_pool_wait_for_a_connection_then_get_unavailable(
        postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from shop_adapters.sqlalchemy import database, migrate

    monkeypatch.setattr(database, "POOL_TIMEOUT_SECONDS", 0.2)
    migrate.upgrade(postgres_url)
    db = Database(postgres_url)
    try:
        product = add_product(db, stock=3)
        busy = [db.unit_of_work() for _ in range(database.WRITE_POOL_SIZE)]
        for uow in busy:
            uow.__enter__()
        # One writer too many: it waits for a connection, and when none comes back in time
        # it is the core's Unavailable (503), not a crash.
        with pytest.raises(Unavailable), db.unit_of_work() as extra:
            extra.products.get(product.id or 0)
        # Readers have their own pool and are not held up by the writers.
        with db.unit_of_work(read_only=True) as reader:
            assert reader.products.get(product.id or 0) is not None
        busy[0].__exit__(None, None, None)
        with db.unit_of_work() as writer:  # a connection came back: writing works again
            assert writer.products.get(product.id or 0) is not None
        for uow in busy[1:]:
            uow.__exit__(None, None, None)
    finally:
        db.dispose()
