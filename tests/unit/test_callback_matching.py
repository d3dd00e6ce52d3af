"""Callbacks find their order by the provider's order id first, the merchant reference next."""

from attrs import evolve

from shop_core.orders import OrderStatus
from shop_core.payments import CallbackOutcome

from .builders import Shop


def test_reference_to_another_order_with_a_different_provider_order_settles_nothing() -> None:
    shop = Shop()
    product = shop.add_product(stock=5)
    alice = shop.add_customer("alice")
    paid_elsewhere = shop.place(alice, (product, 1))
    target = shop.place(alice, (product, 1))
    assert paid_elsewhere.payment is not None
    # A genuine transaction of the first order, re-pointed at the second order through the
    # order id it names, which the provider's signature does not cover.
    forged = evolve(shop.callback(paid_elsewhere), order_id=target.id,
                    provider_order_id="no-such-provider-order")
    assert shop.deliver(forged) is CallbackOutcome.UNKNOWN_ORDER
    assert shop.order(target.id).status is OrderStatus.PENDING


def test_reference_matches_when_the_provider_order_id_agrees() -> None:
    shop = Shop()
    product = shop.add_product(stock=5)
    order = shop.place(shop.add_customer(), (product, 1))
    assert order.payment is not None
    # Stored id found directly; also make the reference path agree.
    callback = evolve(shop.callback(order), provider_order_id=order.payment.provider_order_id)
    assert shop.deliver(callback) is CallbackOutcome.PAID
    assert shop.order(order.id).status is OrderStatus.SUCCESS
