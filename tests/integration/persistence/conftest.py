"""Databases for the persistence tests: migrated to head, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shop_adapters.sqlalchemy.database import Database
from shop_adapters.sqlalchemy.migrate import upgrade
from shop_core.ports import UnitOfWork

from .support import ProductMaker, UserMaker, add_product, add_user


def _migrated(url: str) -> Iterator[Database]:
    upgrade(url)
    database = Database(url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated database; tests using it run on SQLite and on PostgreSQL."""
    yield from _migrated(database_url)


@pytest.fixture
def pg_db(postgres_url: str) -> Iterator[Database]:
    yield from _migrated(postgres_url)


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Iterator[Database]:
    yield from _migrated(sqlite_url)


@pytest.fixture
def uow(db: Database) -> UnitOfWork:
    return db.unit_of_work()


@pytest.fixture
def make_user(db: Database) -> UserMaker:
    return lambda **kw: add_user(db, **kw)


@pytest.fixture
def make_product(db: Database) -> ProductMaker:
    return lambda **kw: add_product(db, **kw)
