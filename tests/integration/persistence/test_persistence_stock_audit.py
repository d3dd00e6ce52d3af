"""Staff stock changes racing each other and customers' carts on PostgreSQL: nothing lost,
nothing applied twice, the audit trail adding up to the stock."""

from __future__ import annotations

from shop_adapters.sqlalchemy.database import Database
from shop_core.catalogue import OutOfStock
from shop_core.orders import CartLine, Order
from shop_core.pagination import PageRequest
from shop_core.testing import FakeClock, FakeExpiryScheduler, FakePaymentGateway
from shop_core.use_cases import catalogue, ordering

from .support import NOW, add_product, add_user, run_together


def test_the_same_form_submitted_at_once_is_applied_once(pg_db: Database) -> None:
    product = add_product(pg_db, stock=5)
    clerk = add_user(pg_db, username="clerk", is_staff=True)
    results = run_together(6, lambda _: catalogue.adjust_stock(
        pg_db.unit_of_work(), FakeClock(NOW), product.id or 0, 3, "Delivery",
        by=clerk.id or 0, request_key="form-1"))
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sum(1 for r in results if isinstance(r, catalogue.StockAdjusted)
               and not r.replayed) == 1
    assert catalogue.get_product(pg_db.unit_of_work(), product.id or 0).stock == 8


def test_adjustments_and_sales_at_once_lose_no_unit(pg_db: Database) -> None:
    product = add_product(pg_db, stock=20)
    clerk, buyer = add_user(pg_db, username="clerk", is_staff=True), add_user(pg_db)
    services = ordering.OrderingServices(gateway=FakePaymentGateway(),
                                         scheduler=FakeExpiryScheduler(), clock=FakeClock(NOW))

    def work(index: int) -> object:
        if index % 2:
            return catalogue.adjust_stock(pg_db.unit_of_work(), FakeClock(NOW), product.id or 0,
                                          2, "Delivery", by=clerk.id or 0,
                                          request_key=f"form-{index}")
        return ordering.place_order(pg_db.unit_of_work(), services, ordering.PlaceOrder(
            buyer.id or 0, (CartLine(product.id or 0, 3),)))

    results = run_together(8, work)
    failures = [r for r in results if isinstance(r, BaseException)
                and not isinstance(r, OutOfStock)]
    assert not failures, failures
    sold = sum(3 for r in results if isinstance(r, Order))
    stock = catalogue.get_product(pg_db.unit_of_work(), product.id or 0).stock
    assert stock == 20 + 4 * 2 - sold
    trail = catalogue.stock_history(pg_db.unit_of_work(), product.id or 0, PageRequest(1, 50))
    assert trail.count == 4
    assert all(change.after - change.before == 2 for change in trail.items)
