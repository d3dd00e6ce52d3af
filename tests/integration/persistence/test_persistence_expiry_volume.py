"""The expiry sweep at volume on PostgreSQL: set-based, fast, each order expired once."""

from __future__ import annotations

import time
from datetime import timedelta

from shop_adapters.sqlalchemy.database import Database
from shop_core.orders import OrderQuery, OrderStatus
from shop_core.testing import FakeClock
from shop_core.use_cases import expiry, ordering

from .bulk import seed_overdue_orders
from .support import NOW, add_product, add_user, run_together, stock_of


def _seeded(db: Database, count: int) -> tuple[list[int], int]:
    user = add_user(db)
    products = [add_product(db, name=f"P{i}", stock=0).id or 0 for i in range(3)]
    return products, seed_overdue_orders(db, user.id or 0, products, count, NOW)


def _timed_out(db: Database) -> int:
    query = OrderQuery(status=OrderStatus.TIMEOUT)
    return ordering.list_orders(db.unit_of_work(), query).count


def test_ten_thousand_overdue_orders_expire_in_one_sweep_with_stock_restored(
        pg_db: Database) -> None:
    products, held = _seeded(pg_db, 10_000)
    clock = FakeClock(NOW + timedelta(seconds=1))
    started = time.perf_counter()
    expired = expiry.expire_overdue_orders(pg_db.unit_of_work(), clock)
    elapsed = time.perf_counter() - started
    assert expired == 10_000 and _timed_out(pg_db) == 10_000
    assert sum(stock_of(pg_db, product) for product in products) == held
    assert elapsed < 10, f"sweep took {elapsed:.1f}s"  # about 1s on a quiet machine
    assert expiry.expire_overdue_orders(pg_db.unit_of_work(), clock) == 0


def test_two_sweeps_at_once_expire_each_order_once(pg_db: Database) -> None:
    products, held = _seeded(pg_db, 4_000)
    clock = FakeClock(NOW + timedelta(seconds=1))
    counts = run_together(2, lambda _: expiry.expire_overdue_orders(
        pg_db.unit_of_work(), clock, batch_size=200))
    assert sum(c for c in counts if isinstance(c, int)) == 4_000, counts
    assert _timed_out(pg_db) == 4_000
    assert sum(stock_of(pg_db, product) for product in products) == held


def test_orders_not_yet_due_are_left_alone(pg_db: Database) -> None:
    _seeded(pg_db, 100)
    clock = FakeClock(NOW - timedelta(seconds=1))
    assert expiry.expire_overdue_orders(pg_db.unit_of_work(), clock) == 0
