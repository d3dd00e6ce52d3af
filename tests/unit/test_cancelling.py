from __future__ import annotations

from datetime import timedelta

import pytest

from shop_core.errors import Conflict, IdempotencyMismatch, NotFound
from shop_core.orders import OrderStatus
from shop_core.payments import CallbackOutcome
from shop_core.use_cases.expiry import expire_order, expire_overdue_orders

from .builders import TIMEOUT, Shop


def test_cancel_returns_the_stock_at_once_and_closes_the_payment(shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    order = shop.place(shop.add_customer(), (pid, 2))

    cancelled = shop.cancel(order)

    assert cancelled.status is OrderStatus.CANCELLED
    assert shop.order(order.id).status is OrderStatus.CANCELLED
    assert shop.stock(pid) == 5
    assert shop.gateway.closed == [order.id]


def test_expiry_of_a_cancelled_order_does_nothing(shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    order = shop.place(shop.add_customer(), (pid, 2))
    assert order.id is not None
    shop.cancel(order)
    shop.clock.advance(TIMEOUT)
    assert not expire_order(shop.uow, shop.clock, order.id)
    assert expire_overdue_orders(shop.uow, shop.clock) == 0
    assert shop.order(order.id).status is OrderStatus.CANCELLED
    assert shop.stock(pid) == 5


def test_someone_elses_order_is_not_found_but_staff_may_cancel_it(shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    order = shop.place(shop.add_customer("alice"), (pid, 1))
    mallory = shop.add_customer("mallory")
    with pytest.raises(NotFound):
        shop.cancel(order, mallory)
    assert shop.order(order.id).status is OrderStatus.PENDING
    assert shop.cancel(order, shop.add_customer("staff"), staff=True).status \
        is OrderStatus.CANCELLED


@pytest.mark.parametrize("success", [True, False])
def test_an_order_no_longer_pending_cannot_be_cancelled(shop: Shop, success: bool) -> None:
    pid = shop.add_product(stock=5)
    order = shop.place(shop.add_customer(), (pid, 1))
    shop.pay(order, success=success)
    with pytest.raises(Conflict):
        shop.cancel(order)
    assert shop.stock(pid) == (4 if success else 5)


def test_a_repeated_key_replays_the_cancel_and_another_request_is_refused(shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    user = shop.add_customer()
    order = shop.place(user, (pid, 2))
    other = shop.place(user, (pid, 1))
    shop.cancel(order, key="k-1")
    again = shop.cancel(order, key="k-1")
    assert again.status is OrderStatus.CANCELLED
    assert shop.stock(pid) == 4 and shop.gateway.closed == [order.id]
    with pytest.raises(IdempotencyMismatch):
        shop.cancel(other, key="k-1")
    with pytest.raises(Conflict):
        shop.cancel(order, key="k-2")


def test_a_provider_failure_to_close_never_undoes_the_cancel(shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    order = shop.place(shop.add_customer(), (pid, 2))
    shop.gateway.unreachable = True
    assert shop.cancel(order).status is OrderStatus.CANCELLED
    assert shop.stock(pid) == 5


def test_a_payment_after_the_cancel_takes_the_stock_again(shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    order = shop.place(shop.add_customer(), (pid, 2))
    shop.cancel(order)
    assert shop.pay(order) is CallbackOutcome.LATE_PAID
    assert shop.order(order.id).status is OrderStatus.SUCCESS
    assert shop.stock(pid) == 3


def test_a_payment_after_the_cancel_is_flagged_when_the_stock_is_gone(shop: Shop) -> None:
    pid = shop.add_product(stock=2)
    user = shop.add_customer()
    order = shop.place(user, (pid, 2))
    shop.cancel(order)
    shop.place(user, (pid, 2))
    assert shop.pay(order) is CallbackOutcome.NEEDS_REFUND
    stored = shop.order(order.id)
    assert stored.status is OrderStatus.CANCELLED and stored.needs_refund
    assert shop.stock(pid) == 0


def test_a_decline_after_the_cancel_changes_nothing(shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    order = shop.place(shop.add_customer(), (pid, 2))
    shop.cancel(order)
    shop.clock.advance(timedelta(seconds=5))
    assert shop.pay(order, success=False) is CallbackOutcome.IGNORED
    assert shop.order(order.id).status is OrderStatus.CANCELLED
    assert shop.stock(pid) == 5
