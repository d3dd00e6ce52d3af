"""Databases for the persistence tests: migrated to head, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from shop_adapters.sqlalchemy.database import Database
from shop_adapters.sqlalchemy.migrate import upgrade
from shop_core.accounts import User
from shop_core.catalogue import Product
from shop_core.money import Money
from shop_core.ports import UnitOfWork

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _migrated(url: str) -> Iterator[Database]:
    upgrade(url)
    database = Database(url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def postgresql_url(postgres_url: str) -> str:
    # tests/conftest.py's `database_url` asks for `f"{param}_url"` with the param
    # "postgresql", while its fixture is named `postgres_url`; this alias bridges the two
    # here without touching the shared conftest.
    return postgres_url


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


UserMaker = Callable[..., User]
ProductMaker = Callable[..., Product]


@pytest.fixture
def make_user(db: Database) -> UserMaker:
    return lambda **kw: add_user(db, **kw)


@pytest.fixture
def make_product(db: Database) -> ProductMaker:
    return lambda **kw: add_product(db, **kw)


def add_user(db: Database, username: str = "alice", email: str | None = None,
             is_staff: bool = False) -> User:
    with db.unit_of_work() as uow:
        user = uow.users.add(User(
            id=None, username=username, email=email or f"{username}@example.com",
            first_name="", last_name="", is_staff=is_staff, password_hash="fake$password",
            date_joined=NOW))
        uow.commit()
    return user


def add_product(db: Database, name: str = "Mug", price: int = 19_999, stock: int = 10,
                currency: str = "EGP", is_deleted: bool = False,
                created_at: datetime = NOW) -> Product:
    with db.unit_of_work() as uow:
        product = uow.products.add(Product(
            id=None, name=name, description=f"A {name}", price=Money(price, currency),
            stock=stock, is_deleted=is_deleted, created_at=created_at, updated_at=created_at))
        uow.commit()
    return product


def stock_of(db: Database, product_id: int) -> int:
    with db.unit_of_work() as uow:
        product = uow.products.get(product_id)
    assert product is not None
    return product.stock


def later(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)
