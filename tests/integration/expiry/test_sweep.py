"""The safety-net sweep: set-based, exact with stock, and safe to run twice at once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from shop_adapters.sqlalchemy.tables import order_lines, orders, outbox_events, products
from shop_core.orders import OrderStatus
from shop_core.testing import FakeClock
from shop_core.use_cases.expiry import SWEEP_BATCH_SIZE
from shop_web import jobs
from shop_web.bootstrap import Shop

from .conftest import (
    ORDER_TIMEOUT,
    add_customer,
    add_product,
    close_shop,
    make_shop,
    order,
    place,
    product,
)

OVERDUE_ORDERS = 10_000


def insert_overdue_orders(shop: Shop, count: int) -> tuple[list[int], Counter[int]]:
    """`count` pending orders past their deadline, each holding one to three products (their
    stock already taken, as a reservation would have). Generated inside PostgreSQL, so ten
    thousand take a fraction of a second. Returns the product ids and what the orders hold."""
    product_ids = [add_product(shop, name=f"Product {n}", stock=1000) for n in range(7)]
    user_id = add_customer(shop)
    deadline = datetime.now(UTC) - timedelta(minutes=1)
    with shop.database.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO orders (user_id, status, currency, expires_at, needs_refund,"
            " created_at, updated_at)"
            " SELECT :user_id, 'pending', 'EGP', :deadline, false, :created, :created"
            " FROM generate_series(1, :count)"),
            {"user_id": user_id, "deadline": deadline,
             "created": deadline - ORDER_TIMEOUT, "count": count})
        for k in range(3):  # line k of every order that has more than k lines
            conn.execute(sa.text(
                "INSERT INTO order_lines (order_id, product_id, name, unit_price, quantity)"
                " SELECT id, (CAST(:products AS integer[]))[(id + :k) % 7 + 1], 'Product',"
                " 10000, (id + 2 * :k) % 4 + 1 FROM orders WHERE id % 3 >= :k"),
                {"products": product_ids, "k": k})
        held = conn.execute(sa.select(order_lines.c.product_id, sa.func.sum(order_lines.c.quantity))
                            .group_by(order_lines.c.product_id))
        return product_ids, Counter({product_id: int(total) for product_id, total in held})


def statuses(shop: Shop) -> Counter[str]:
    with shop.database.engine.connect() as conn:
        rows = conn.execute(sa.select(orders.c.status, sa.func.count()).group_by(orders.c.status))
        return Counter({status: number for status, number in rows})


def expired_events(shop: Shop) -> Counter[int]:
    """How many `order.expired` events each order has in the outbox."""
    with shop.database.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox_events.c.order_id)
                            .where(outbox_events.c.type == "order.expired"))
        return Counter(order_id for (order_id,) in rows)


def order_ids(shop: Shop) -> list[int]:
    with shop.database.engine.connect() as conn:
        return list(conn.execute(sa.select(orders.c.id)).scalars())


def stocks(shop: Shop, product_ids: list[int]) -> dict[int, int]:
    with shop.database.engine.connect() as conn:
        rows = conn.execute(sa.select(products.c.id, products.c.stock)
                            .where(products.c.id.in_(product_ids)))
        return {product_id: stock for product_id, stock in rows}


@pytest.fixture
def pg_shop(migrated_postgres_url: str) -> Iterator[Shop]:
    shop = make_shop(migrated_postgres_url)
    yield shop
    close_shop(shop)


@pytest.mark.postgres
def test_one_sweep_expires_ten_thousand_overdue_orders_and_restores_stock_exactly(
        pg_shop: Shop) -> None:
    product_ids, held = insert_overdue_orders(pg_shop, OVERDUE_ORDERS)

    inserts: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "INSERT INTO outbox_events" in statement:
            inserts.append(statement)

    sa.event.listen(pg_shop.database.engine, "before_cursor_execute", record)
    started = time.monotonic()
    expired = pg_shop.expire_overdue_orders()
    took = time.monotonic() - started
    sa.event.remove(pg_shop.database.engine, "before_cursor_execute", record)

    assert expired == OVERDUE_ORDERS
    assert expired_events(pg_shop) == Counter({order_id: 1 for order_id in order_ids(pg_shop)})
    assert len(inserts) == OVERDUE_ORDERS // SWEEP_BATCH_SIZE  # one statement per batch
    assert statuses(pg_shop) == {"timeout": OVERDUE_ORDERS}
    assert stocks(pg_shop, product_ids) == {pid: 1000 + held[pid] for pid in product_ids}
    assert took < 20, f"the sweep took {took:.1f} s"
    assert pg_shop.expire_overdue_orders() == 0


@pytest.mark.postgres
def test_two_sweeps_at_once_expire_each_order_exactly_once(pg_shop: Shop) -> None:
    product_ids, held = insert_overdue_orders(pg_shop, OVERDUE_ORDERS)
    start = threading.Barrier(2)
    results: list[int] = []

    def sweep() -> None:
        start.wait()
        results.append(pg_shop.expire_overdue_orders())

    sweepers = [threading.Thread(target=sweep) for _ in range(2)]
    for sweeper in sweepers:
        sweeper.start()
    for sweeper in sweepers:
        sweeper.join(timeout=60)

    assert len(results) == 2 and sum(results) == OVERDUE_ORDERS
    assert statuses(pg_shop) == {"timeout": OVERDUE_ORDERS}
    assert expired_events(pg_shop) == Counter({order_id: 1 for order_id in order_ids(pg_shop)})
    assert stocks(pg_shop, product_ids) == {pid: 1000 + held[pid] for pid in product_ids}


def test_the_sweep_leaves_orders_before_their_deadline_alone(migrated_url: str) -> None:
    clock = FakeClock(datetime.now(UTC))
    shop = make_shop(migrated_url, clock=clock)
    try:
        mug = add_product(shop, stock=3)
        alice = add_customer(shop)
        early, late = place(shop, alice, (mug, 1)), None
        clock.advance(ORDER_TIMEOUT / 2)
        late = place(shop, alice, (mug, 1))
        clock.advance(ORDER_TIMEOUT / 2)  # the first order's deadline, not the second's

        assert shop.expire_overdue_orders() == 1
        assert order(shop, early.id).status is OrderStatus.TIMEOUT
        assert order(shop, late.id).status is OrderStatus.PENDING
        assert product(shop, mug).stock == 2
    finally:
        close_shop(shop)


def test_the_in_process_background_sweep_expires_an_overdue_order(
        migrated_sqlite_url: str) -> None:
    clock = FakeClock(datetime.now(UTC))
    shop = make_shop(migrated_sqlite_url, clock=clock, sweep_interval=0.1)
    try:
        mug = add_product(shop, stock=2)
        placed = place(shop, add_customer(shop), (mug, 2))
        shop.start_duties()
        time.sleep(0.3)
        assert order(shop, placed.id).status is OrderStatus.PENDING

        clock.advance(ORDER_TIMEOUT)
        give_up = time.monotonic() + 5
        while order(shop, placed.id).status is OrderStatus.PENDING:
            assert time.monotonic() < give_up
            time.sleep(0.05)

        assert order(shop, placed.id).status is OrderStatus.TIMEOUT
        assert product(shop, mug).stock == 2

        shop.stop_duties()
        again = place(shop, add_customer(shop, "bob"), (mug, 1))
        clock.advance(ORDER_TIMEOUT)
        time.sleep(0.4)  # several intervals: a running sweep would have expired it
        assert order(shop, again.id).status is OrderStatus.PENDING
    finally:
        close_shop(shop)


def test_job_functions_build_the_shop_from_the_environment_once(
        migrated_sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_sqlite_url)
    monkeypatch.setenv("SHOP_ENV", "test")
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("PAYMOB_SECRET_KEY", raising=False)
    monkeypatch.setenv("PAYMOB_MODE", "sandbox")
    jobs.use_shop(None)

    assert jobs.expire_order(12345) is False  # unknown order: nothing to do
    assert jobs.current_shop() is jobs.current_shop()
    assert str(jobs.current_shop().database.url) == migrated_sqlite_url
    close_shop(jobs.current_shop())
