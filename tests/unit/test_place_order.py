from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from shop_core.catalogue import OutOfStock, Shortfall
from shop_core.errors import (
    IdempotencyMismatch,
    NotFound,
    PaymentProviderError,
    ValidationError,
)
from shop_core.money import Money
from shop_core.orders import MAX_CART_LINES, CartLine, OrderQuery, OrderStatus, merge_cart
from shop_core.testing import FakeExpiryScheduler
from shop_core.use_cases.catalogue import (
    ProductChanges,
    ProductDetails,
    create_product,
    update_product,
)
from shop_core.use_cases.ordering import get_order, list_orders

from .builders import TIMEOUT, Shop, egp

# --- cart validation ---------------------------------------------------------------------


def cart(*lines: tuple[int, int]) -> list[CartLine]:
    return [CartLine(pid, quantity) for pid, quantity in lines]


def test_empty_cart_is_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        merge_cart([])
    assert set(raised.value.field_errors) == {"cart_items"}


def test_more_than_100_lines_are_refused() -> None:
    merge_cart(cart(*((pid, 1) for pid in range(1, MAX_CART_LINES + 1))))
    with pytest.raises(ValidationError):
        merge_cart(cart(*((pid, 1) for pid in range(1, MAX_CART_LINES + 2))))


@pytest.mark.parametrize("quantity", [0, -1, 1_000_001])
def test_quantity_out_of_range_is_refused(quantity: int) -> None:
    with pytest.raises(ValidationError):
        merge_cart(cart((1, 2), (3, quantity)))


def test_a_non_positive_line_is_refused_even_when_merging_would_hide_it() -> None:
    with pytest.raises(ValidationError):
        merge_cart(cart((1, 5), (1, -2)))


def test_lines_naming_the_same_product_are_merged_in_product_id_order() -> None:
    assert merge_cart(cart((5, 1), (2, 3), (5, 2))) == cart((2, 3), (5, 3))


def test_place_order_merges_duplicate_lines(shop: Shop) -> None:
    pid = shop.add_product(stock=10)
    order = shop.place(shop.add_customer(), (pid, 2), (pid, 3))
    assert [(line.product_id, line.quantity) for line in order.lines] == [(pid, 5)]
    assert shop.stock(pid) == 5


def test_unknown_product_is_a_validation_error_naming_it(shop: Shop) -> None:
    pid = shop.add_product(stock=10)
    with pytest.raises(ValidationError) as raised:
        shop.place(shop.add_customer(), (pid, 1), (4242, 1))
    assert "4242" in str(raised.value.field_errors["cart_items"])
    assert shop.stock(pid) == 10
    assert shop.uow.store.orders == {}


def test_products_in_two_currencies_cannot_share_an_order(shop: Shop) -> None:
    egp_id = shop.add_product(stock=5)
    usd = create_product(shop.uow, shop.clock, ProductDetails("Cup", Money(100, "USD"), 5))
    assert usd.id is not None
    with pytest.raises(ValidationError):
        shop.place(shop.add_customer(), (egp_id, 1), (usd.id, 1))
    assert shop.stock(egp_id) == 5


def test_shortfall_names_every_short_line_and_reserves_nothing(shop: Shop) -> None:
    plenty = shop.add_product("Mug", stock=10)
    short = shop.add_product("Cup", stock=2)
    empty = shop.add_product("Pot", stock=0)
    with pytest.raises(OutOfStock) as raised:
        shop.place(shop.add_customer(), (plenty, 3), (short, 3), (empty, 1))
    assert set(raised.value.unavailable) == {Shortfall(short, 3, 2), Shortfall(empty, 1, 0)}
    assert (shop.stock(plenty), shop.stock(short), shop.stock(empty)) == (10, 2, 0)
    assert shop.uow.store.orders == {}
    assert shop.gateway.intentions == {}


def test_merged_lines_are_checked_against_stock_as_one(shop: Shop) -> None:
    pid = shop.add_product(stock=4)
    with pytest.raises(OutOfStock) as raised:
        shop.place(shop.add_customer(), (pid, 3), (pid, 2))
    assert raised.value.unavailable == (Shortfall(pid, 5, 4),)
    assert shop.stock(pid) == 4


def test_the_last_unit_can_be_bought(shop: Shop) -> None:
    pid = shop.add_product(stock=3)
    shop.place(shop.add_customer(), (pid, 3))
    assert shop.stock(pid) == 0


# --- placing -----------------------------------------------------------------------------

def test_order_is_pending_with_prices_captured_and_a_deadline(shop: Shop) -> None:
    mug = shop.add_product("Mug", "199.99", 10)
    cup = shop.add_product("Cup", "5.50", 10)
    user = shop.add_customer()
    order = shop.place(user, (cup, 2), (mug, 1))
    update_product(shop.uow, shop.clock, mug, ProductChanges(name="Big mug", price=egp("300")))
    stored = shop.order(order.id)
    assert stored.status is OrderStatus.PENDING
    assert stored.user_id == user
    assert [(line.product_id, line.name, line.unit_price, line.quantity)
            for line in stored.lines] == [(mug, "Mug", egp("199.99"), 1),
                                          (cup, "Cup", egp("5.50"), 2)]
    assert stored.total == egp("210.99")
    assert stored.created_at == shop.clock.now()
    assert stored.expires_at == shop.clock.now() + TIMEOUT
    assert (shop.stock(mug), shop.stock(cup)) == (9, 8)


def test_order_carries_its_payment_intention(shop: Shop) -> None:
    order = shop.place(shop.add_customer(), (shop.add_product(), 1))
    assert order.id is not None
    assert order.payment is not None
    assert order.payment == shop.gateway.intentions[order.id] == shop.order(order.id).payment


class _WatchingScheduler(FakeExpiryScheduler):
    """Notes how many commits had happened, and the stored order, when expiry is scheduled."""

    def __init__(self, shop: Shop) -> None:
        super().__init__()
        self.shop = shop
        self.seen: list[tuple[int, bool]] = []

    def schedule(self, order_id: int, at: datetime) -> None:
        stored = self.shop.uow.store.orders.get(order_id)
        self.seen.append((self.shop.uow.commits, stored is not None and stored.payment is not None))
        super().schedule(order_id, at)


def test_expiry_is_scheduled_at_the_deadline_after_the_order_is_committed(shop: Shop) -> None:
    scheduler = _WatchingScheduler(shop)
    shop.services = shop.services.__class__(shop.gateway, scheduler, shop.clock, TIMEOUT)
    order = shop.place(shop.add_customer(), (shop.add_product(), 1))
    assert scheduler.scheduled == [(order.id, order.expires_at)]
    assert scheduler.seen == [(shop.uow.commits, True)]


def test_gateway_failure_fails_the_order_restores_stock_and_raises(shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    shop.gateway.fail_next = True
    with pytest.raises(PaymentProviderError):
        shop.place(shop.add_customer(), (pid, 2))
    [order] = shop.uow.store.orders.values()
    assert order.status is OrderStatus.FAILED
    assert order.payment is None
    assert shop.stock(pid) == 5
    assert shop.scheduler.scheduled == []


def test_a_vanished_customer_places_nothing_and_takes_no_stock(shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    with pytest.raises(NotFound):
        shop.place(999, (pid, 2))
    assert shop.uow.store.orders == {}
    assert shop.stock(pid) == 5
    assert shop.gateway.intentions == {}


def test_scheduler_failure_still_places_the_order(shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    shop.scheduler.broken = True
    order = shop.place(shop.add_customer(), (pid, 2))
    stored = shop.order(order.id)
    assert stored.status is OrderStatus.PENDING and stored.payment is not None
    assert shop.stock(pid) == 3


# --- idempotency -------------------------------------------------------------------------

def test_same_key_and_cart_returns_the_original_order_without_reserving_again(
        shop: Shop) -> None:
    pid = shop.add_product(stock=10)
    user = shop.add_customer()
    first = shop.place(user, (pid, 2), key="k1")
    again = shop.place(user, (pid, 1), (pid, 1), key="k1")
    assert again.id == first.id
    assert again.payment == first.payment
    assert shop.stock(pid) == 8
    assert len(shop.uow.store.orders) == 1
    assert len(shop.gateway.intentions) == 1
    assert len(shop.scheduler.scheduled) == 1


def test_same_key_with_another_cart_is_a_mismatch(shop: Shop) -> None:
    pid = shop.add_product(stock=10)
    user = shop.add_customer()
    shop.place(user, (pid, 2), key="k1")
    with pytest.raises(IdempotencyMismatch):
        shop.place(user, (pid, 3), key="k1")
    assert shop.stock(pid) == 8
    assert len(shop.uow.store.orders) == 1


def test_keys_belong_to_one_user(shop: Shop) -> None:
    pid = shop.add_product(stock=10)
    first = shop.place(shop.add_customer("alice"), (pid, 2), key="k1")
    second = shop.place(shop.add_customer("bob"), (pid, 2), key="k1")
    assert first.id != second.id
    assert shop.stock(pid) == 6


def test_without_a_key_every_request_is_a_new_order(shop: Shop) -> None:
    pid = shop.add_product(stock=10)
    user = shop.add_customer()
    assert shop.place(user, (pid, 1)).id != shop.place(user, (pid, 1)).id
    assert shop.stock(pid) == 8


def test_refused_request_does_not_burn_the_key(shop: Shop) -> None:
    pid = shop.add_product(stock=1)
    user = shop.add_customer()
    with pytest.raises(OutOfStock):
        shop.place(user, (pid, 2), key="k1")
    order = shop.place(user, (pid, 1), key="k1")
    assert shop.order(order.id).status is OrderStatus.PENDING


# --- reading orders back -----------------------------------------------------------------

def test_customer_sees_only_their_own_orders_newest_first(shop: Shop) -> None:
    pid = shop.add_product(stock=10)
    alice, bob = shop.add_customer("alice"), shop.add_customer("bob")
    first = shop.place(alice, (pid, 1))
    shop.clock.advance(timedelta(seconds=1))
    shop.place(bob, (pid, 1))
    shop.clock.advance(timedelta(seconds=1))
    second = shop.place(alice, (pid, 1))
    page = list_orders(shop.uow, OrderQuery(user_id=alice))
    assert [o.id for o in page.items] == [second.id, first.id]
    assert page.count == 2
    assert first.id is not None
    assert get_order(shop.uow, first.id, user_id=alice).id == first.id
    with pytest.raises(NotFound):
        get_order(shop.uow, first.id, user_id=bob)
    assert get_order(shop.uow, first.id, user_id=None).id == first.id
    with pytest.raises(NotFound):
        get_order(shop.uow, 999, user_id=None)


def test_order_listing_filters_by_status(shop: Shop) -> None:
    pid = shop.add_product(stock=10)
    user = shop.add_customer()
    paid = shop.place(user, (pid, 1))
    shop.place(user, (pid, 1))
    shop.pay(paid)
    page = list_orders(shop.uow, OrderQuery(user_id=user, status=OrderStatus.SUCCESS))
    assert [o.id for o in page.items] == [paid.id]
