"""A real shop for the expiry tests: migrated SQLite or PostgreSQL, Redis under a queue name
of the test's own (its keys are deleted afterwards; the rest of Redis is left alone)."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from attrs import evolve

from shop_adapters.jobs.queue import RqExpiryScheduler
from shop_adapters.jobs.worker import run_scheduler, run_worker
from shop_adapters.sqlalchemy.migrate import upgrade
from shop_core.catalogue import Product
from shop_core.clock import SystemClock
from shop_core.money import Money
from shop_core.orders import CartLine, Order
from shop_core.ports import Clock
from shop_core.testing import FakePaymentGateway
from shop_core.use_cases.accounts import Registration, register
from shop_core.use_cases.catalogue import ProductDetails, create_product, get_product
from shop_core.use_cases.ordering import PlaceOrder, get_order
from shop_web import jobs
from shop_web.bootstrap import EXPIRE_ORDER_JOB, Shop, build_shop
from shop_web.config import Settings

ORDER_TIMEOUT = timedelta(seconds=2)


@pytest.fixture
def queue_name(redis_url: str) -> Iterator[str]:
    """An RQ queue of this test's own; every Redis key naming it is deleted afterwards."""
    name = f"shop-test-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"*{name}*", count=1000))
        if keys:
            client.delete(*keys)
        client.srem("rq:queues", f"rq:queue:{name}")
    finally:
        client.close()


@pytest.fixture(autouse=True)
def _isolated_process_state() -> Iterator[None]:
    """RQ workers install SIGINT/SIGTERM handlers, and a worker hands its shop to the job
    functions: give the test session both back."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in handlers.items():
        signal.signal(sig, handler)
    jobs.use_shop(None)


@pytest.fixture
def postgresql_url(postgres_url: str) -> str:
    # tests/conftest.py's `database_url` looks up "postgresql_url"; its fixture is
    # `postgres_url`.
    return postgres_url


@pytest.fixture
def migrated_url(database_url: str) -> str:
    """A migrated database; tests using it run on SQLite and on PostgreSQL."""
    upgrade(database_url)
    return database_url


@pytest.fixture
def migrated_postgres_url(postgres_url: str) -> str:
    upgrade(postgres_url)
    return postgres_url


@pytest.fixture
def migrated_sqlite_url(sqlite_url: str) -> str:
    upgrade(sqlite_url)
    return sqlite_url


def make_shop(database_url: str, *, redis_url: str | None = None, queue_name: str | None = None,
              clock: Clock | None = None, scheduler_redis: redis.Redis | None = None,
              sweep_interval: float = 2.0) -> Shop:
    """A shop with real adapters, a fake payment gateway, and orders that lapse in 2 s."""
    settings = Settings(shop_env="test", database_url=database_url, redis_url=redis_url,
                        order_payment_timeout=ORDER_TIMEOUT, password_hash_profile="cheap",
                        expiry_sweep_interval=sweep_interval).validated()
    shop = build_shop(settings, clock=clock or SystemClock(), gateway=FakePaymentGateway())
    if queue_name is not None:
        client = scheduler_redis if scheduler_redis is not None else shop.redis
        shop = evolve(shop, scheduler=RqExpiryScheduler(client, EXPIRE_ORDER_JOB, queue_name))
    return shop


def run_worker_once(shop: Shop, queue_name: str) -> bool:
    """What `shop worker --burst` does: move due jobs onto the queue, run it until empty."""
    return run_worker(jobs.duties(shop, queue_name), burst=True)


def run_scheduler_once(shop: Shop, queue_name: str) -> None:
    """One pass of `shop scheduler`: move due jobs onto the queue, and sweep."""
    run_scheduler(jobs.duties(shop, queue_name), burst=True)


def close_shop(shop: Shop) -> None:
    shop.stop_duties()
    shop.database.dispose()
    if shop.redis is not None:
        shop.redis.close()


def add_customer(shop: Shop, username: str = "alice") -> int:
    user = register(shop.uow(), shop.hasher, shop.clock,
                    Registration(username, f"{username}@example.com", "correct horse battery"))
    assert user.id is not None
    return user.id


def add_product(shop: Shop, name: str = "Mug", stock: int = 10) -> int:
    product = create_product(shop.uow(), shop.clock,
                             ProductDetails(name, Money.parse("100.00", "EGP"), stock))
    assert product.id is not None
    return product.id


def place(shop: Shop, user_id: int, *lines: tuple[int, int]) -> Order:
    cart = tuple(CartLine(product_id, quantity) for product_id, quantity in lines)
    return shop.orders.place(PlaceOrder(user_id, cart))


def order(shop: Shop, order_id: int | None) -> Order:
    assert order_id is not None
    return get_order(shop.uow(), order_id, user_id=None)


def product(shop: Shop, product_id: int) -> Product:
    return get_product(shop.uow(), product_id, include_deleted=True)
