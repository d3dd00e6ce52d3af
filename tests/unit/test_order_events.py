"""Events are written with the change they describe, and only then."""

from __future__ import annotations

import pytest

from shop_core.catalogue import OutOfStock
from shop_core.errors import PaymentProviderError
from shop_core.events import Event, EventType, order_snapshot
from shop_core.use_cases.cancelling import CancelOrder, cancel_order
from shop_core.use_cases.catalogue import ProductChanges, update_product
from shop_core.use_cases.expiry import expire_order, expire_overdue_orders

from .builders import TIMEOUT, Shop

T = EventType


def events(shop: Shop) -> list[Event]:
    return [event for event, _ in shop.uow.store.outbox]


def kinds(shop: Shop) -> list[tuple[EventType, int | None]]:
    return [(event.type, event.order_id) for event in events(shop)]


def test_placing_an_order_announces_it_with_the_order_as_the_api_shows_it(shop: Shop) -> None:
    product = shop.add_product("Mug", "100.00", stock=5)
    order = shop.place(shop.add_customer(), (product, 2))
    [placed] = events(shop)
    assert (placed.type, placed.order_id, placed.created_at) == (
        T.ORDER_PLACED, order.id, shop.clock.now())
    assert placed.data["status"] == "pending"
    assert placed.data["total"] == "200.00"
    assert placed.data["items"] == [{"product_id": product, "name": "Mug",
                                     "unit_price": "100.00", "quantity": 2,
                                     "line_total": "200.00"}]


def test_an_order_that_could_not_be_placed_announces_nothing(shop: Shop) -> None:
    product = shop.add_product(stock=1)
    with pytest.raises(OutOfStock):
        shop.place(shop.add_customer(), (product, 2))
    assert events(shop) == []


def test_taking_the_last_unit_announces_the_product_out_of_stock_once(shop: Shop) -> None:
    product = shop.add_product("Lamp", stock=3)
    customer = shop.add_customer()
    first = shop.place(customer, (product, 2))
    second = shop.place(customer, (product, 1))
    assert kinds(shop) == [(T.ORDER_PLACED, first.id), (T.ORDER_PLACED, second.id),
                           (T.PRODUCT_OUT_OF_STOCK, second.id)]
    sold_out = events(shop)[-1]
    assert (sold_out.data["id"], sold_out.data["stock"], sold_out.data["name"]) == (
        product, 0, "Lamp")


def test_payment_outcomes_are_announced_and_a_repeated_callback_adds_nothing(
        shop: Shop) -> None:
    product = shop.add_product(stock=5)
    customer = shop.add_customer()
    paid, declined = shop.place(customer, (product, 1)), shop.place(customer, (product, 1))
    shop.pay(paid, transaction_id="t1")
    shop.pay(paid, transaction_id="t1")
    shop.pay(declined, success=False)
    assert kinds(shop)[2:] == [(T.ORDER_PAID, paid.id), (T.ORDER_PAYMENT_FAILED, declined.id)]
    assert events(shop)[2].data == order_snapshot(shop.order(paid.id))
    assert events(shop)[2].data["status"] == "success"


def test_a_gateway_failure_announces_the_failed_order(shop: Shop) -> None:
    product = shop.add_product(stock=5)
    shop.gateway.fail_next = True
    with pytest.raises(PaymentProviderError):
        shop.place(shop.add_customer(), (product, 1))
    assert [kind for kind, _ in kinds(shop)] == [T.ORDER_PLACED, T.ORDER_PAYMENT_FAILED]


def test_expiry_announces_each_order_once_whether_swept_or_expired_alone(shop: Shop) -> None:
    product = shop.add_product(stock=5)
    customer = shop.add_customer()
    alone, *swept = (shop.place(customer, (product, 1)) for _ in range(3))
    shop.clock.advance(TIMEOUT)
    assert expire_order(shop.uow, shop.clock, alone.id or 0)
    assert expire_overdue_orders(shop.uow, shop.clock, batch_size=1) == 2
    assert expire_overdue_orders(shop.uow, shop.clock) == 0
    expired = [event for event in events(shop) if event.type is T.ORDER_EXPIRED]
    assert [event.order_id for event in expired] == [alone.id, *(o.id for o in swept)]
    assert {event.data["status"] for event in expired} == {"timeout"}


def test_a_late_payment_without_stock_is_announced_as_needing_a_refund(shop: Shop) -> None:
    product = shop.add_product(stock=1)
    customer = shop.add_customer()
    order = shop.place(customer, (product, 1))
    shop.clock.advance(TIMEOUT)
    assert expire_order(shop.uow, shop.clock, order.id or 0)
    update_product(shop.uow, shop.clock, product, ProductChanges(stock=0))
    shop.pay(order)
    assert kinds(shop)[-1] == (T.ORDER_NEEDS_REFUND, order.id)
    assert events(shop)[-1].data["needs_refund"] is True


def test_a_late_payment_that_takes_the_last_units_again_announces_the_sell_out(
        shop: Shop) -> None:
    product = shop.add_product(stock=2)
    order = shop.place(shop.add_customer(), (product, 2))
    shop.clock.advance(TIMEOUT)
    assert expire_order(shop.uow, shop.clock, order.id or 0)
    shop.pay(order)
    assert [kind for kind, _ in kinds(shop)][-2:] == [T.ORDER_PAID, T.PRODUCT_OUT_OF_STOCK]


def test_the_body_carries_id_type_time_and_data(shop: Shop) -> None:
    product = shop.add_product(stock=5)
    shop.place(shop.add_customer(), (product, 1))
    [placed] = events(shop)
    body = placed.body()
    assert body["id"] == placed.id and body["type"] == "order.placed"
    assert body["created_at"] == "2026-01-01T12:00:00+00:00"
    assert body["data"]["id"] == placed.order_id


def test_cancelling_announces_the_cancelled_order(shop: Shop) -> None:
    product = shop.add_product(stock=5)
    customer = shop.add_customer()
    order = shop.place(customer, (product, 1))
    cancel_order(shop.uow, shop.clock, shop.gateway,
                 CancelOrder(order_id=order.id or 0, user_id=customer))
    assert kinds(shop)[-1] == (T.ORDER_CANCELLED, order.id)
    assert events(shop)[-1].data["status"] == "cancelled"
