"""Helpers shared by the persistence tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from shop_core.accounts import User
from shop_core.catalogue import Product
from shop_core.money import Money
from shop_core.orders import Order, OrderLine, new_order
from shop_core.payments import PaymentCallback
from shop_core.ports import UnitOfWork
from shop_core.testing import FakeUnitOfWork

T = TypeVar("T")

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

class Store(Protocol):
    """Where units of work come from: a `Database`, or `InMemoryStore`."""

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork: ...


class InMemoryStore:
    """The core's fakes as a `Store`, so that the repository contract runs against them."""

    def __init__(self) -> None:
        self._uow = FakeUnitOfWork()

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        return self._uow


UserMaker = Callable[..., User]
ProductMaker = Callable[..., Product]


def new_user(username: str = "alice", email: str | None = None, is_staff: bool = False) -> User:
    return User(id=None, username=username, email=email or f"{username}@example.com",
                first_name="", last_name="", is_staff=is_staff, password_hash="fake$password",
                date_joined=NOW)


def add_user(db: Store, username: str = "alice", email: str | None = None,
             is_staff: bool = False) -> User:
    with db.unit_of_work() as uow:
        user = uow.users.add(new_user(username, email, is_staff))
        uow.commit()
    return user


def add_product(db: Store, name: str = "Mug", price: int = 19_999, stock: int = 10,
                currency: str = "EGP", is_deleted: bool = False,
                created_at: datetime = NOW) -> Product:
    with db.unit_of_work() as uow:
        product = uow.products.add(Product(
            id=None, name=name, description=f"A {name}", price=Money(price, currency),
            stock=stock, is_deleted=is_deleted, created_at=created_at, updated_at=created_at))
        uow.commit()
    return product


def stock_of(db: Store, product_id: int) -> int:
    with db.unit_of_work() as uow:
        product = uow.products.get(product_id)
    assert product is not None
    return product.stock


def later(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def callback(order: Order, transaction_id: str, *, success: bool = True,
             pending: bool = False, amount: Money | None = None,
             is_refund: bool = False) -> PaymentCallback:
    """A verified callback for `order`, found by the order id it names."""
    return PaymentCallback(
        transaction_id=transaction_id, amount=amount or order.total, success=success,
        pending=pending, is_refund=is_refund, is_void=False, has_parent_transaction=is_refund,
        order_id=order.id, provider_order_id=None)


def run_together(count: int, work: Callable[[int], T]) -> list[T | BaseException]:
    """Run `work(0..count-1)` on `count` threads released at the same moment; each result is
    the return value or the exception raised."""
    barrier = threading.Barrier(count)

    def start(index: int) -> T | BaseException:
        barrier.wait()
        try:
            return work(index)
        except BaseException as error:  # noqa: BLE001 - reported to the test
            return error

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(start, range(count)))


def an_order(user_id: int, lines: list[OrderLine], created: datetime = NOW,
             expires: datetime | None = None) -> Order:
    return new_order(user_id, lines, created, expires or created + timedelta(minutes=10))


def a_line(product_id: int, quantity: int = 1, price: int = 1000) -> OrderLine:
    return OrderLine(product_id, f"Product {product_id}", Money(price, "EGP"), quantity)


def place(uow: UnitOfWork, order: Order) -> Order:
    with uow:
        stored = uow.orders.add(order)
        uow.commit()
    return stored
