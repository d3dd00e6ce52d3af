from __future__ import annotations

import pytest
from attrs import evolve

from shop_core.money import Money
from shop_core.orders import Order, OrderStatus
from shop_core.payments import CallbackOutcome, PaymentCallback, PaymentEvent
from shop_core.use_cases.catalogue import ProductChanges, delete_product, update_product
from shop_core.use_cases.expiry import expire_order

from .builders import TIMEOUT, Shop

Outcome = CallbackOutcome


@pytest.fixture
def product(shop: Shop) -> int:
    return shop.add_product("Mug", "100.00", stock=5)


@pytest.fixture
def order(shop: Shop, product: int) -> Order:
    return shop.place(shop.add_customer(), (product, 2))


def status(shop: Shop, order: Order) -> OrderStatus:
    return shop.order(order.id).status


def ledger(shop: Shop, order: Order) -> list[PaymentEvent]:
    assert order.id is not None
    with shop.uow:
        return shop.uow.payment_events.list_for_order(order.id)


def time_out(shop: Shop, order: Order) -> None:
    assert order.id is not None
    shop.clock.advance(TIMEOUT)
    assert expire_order(shop.uow, shop.clock, order.id)


# --- the outcomes ------------------------------------------------------------------------

def test_success_pays_the_pending_order_and_keeps_its_stock(shop: Shop, order: Order,
                                                            product: int) -> None:
    assert shop.pay(order, transaction_id="t1") is Outcome.PAID
    assert status(shop, order) is OrderStatus.SUCCESS
    assert shop.stock(product) == 3
    [event] = ledger(shop, order)
    assert (event.transaction_id, event.outcome, event.success) == ("t1", Outcome.PAID, True)


def test_callback_is_matched_by_the_provider_order_id_too(shop: Shop, order: Order) -> None:
    assert shop.pay(order, by_provider_order_id=True) is Outcome.PAID
    assert status(shop, order) is OrderStatus.SUCCESS


def test_decline_fails_the_order_and_restores_its_stock(shop: Shop, order: Order,
                                                        product: int) -> None:
    assert shop.pay(order, success=False) is Outcome.DECLINED
    assert status(shop, order) is OrderStatus.FAILED
    assert shop.stock(product) == 5


def test_pending_callback_changes_nothing_but_is_recorded(shop: Shop, order: Order,
                                                          product: int) -> None:
    assert shop.pay(order, success=False, pending=True) is Outcome.STILL_PENDING
    assert status(shop, order) is OrderStatus.PENDING
    assert shop.stock(product) == 3
    assert [e.outcome for e in ledger(shop, order)] == [Outcome.STILL_PENDING]


def test_second_success_callback_changes_nothing(shop: Shop, order: Order,
                                                 product: int) -> None:
    shop.pay(order, transaction_id="t1")
    before = shop.order(order.id)
    assert shop.pay(order, transaction_id="t1") is Outcome.DUPLICATE
    assert shop.order(order.id) == before
    assert shop.stock(product) == 3
    assert len(ledger(shop, order)) == 1


@pytest.mark.parametrize("replay", [
    {"success": False},
    {"is_refund": True, "has_parent_transaction": True},
    {"amount": Money(1, "EGP")},
])
def test_repeated_transaction_id_changes_nothing_even_with_other_content(
        shop: Shop, order: Order, product: int, replay: dict[str, object]) -> None:
    shop.pay(order, transaction_id="t1")
    assert shop.pay(order, transaction_id="t1", **replay) is Outcome.DUPLICATE
    assert status(shop, order) is OrderStatus.SUCCESS
    assert not shop.order(order.id).needs_refund
    assert shop.stock(product) == 3
    [event] = ledger(shop, order)
    assert event.outcome is Outcome.PAID


def test_replayed_decline_cannot_fail_the_order_twice(shop: Shop, order: Order,
                                                      product: int) -> None:
    shop.pay(order, transaction_id="t1", success=False)
    assert shop.pay(order, transaction_id="t1", success=False) is Outcome.DUPLICATE
    assert shop.stock(product) == 5


def test_final_success_of_a_pending_transaction_after_timeout_is_a_late_payment(
        shop: Shop, order: Order, product: int) -> None:
    shop.pay(order, transaction_id="t1", success=False, pending=True)
    time_out(shop, order)
    assert shop.pay(order, transaction_id="t1") is Outcome.LATE_PAID
    assert status(shop, order) is OrderStatus.SUCCESS
    assert shop.stock(product) == 3


def test_stale_pending_notice_after_the_final_outcome_changes_nothing(
        shop: Shop, order: Order, product: int) -> None:
    shop.pay(order, transaction_id="t1")
    assert shop.pay(order, transaction_id="t1", success=False, pending=True) \
        is Outcome.STILL_PENDING
    assert status(shop, order) is OrderStatus.SUCCESS
    assert shop.stock(product) == 3


def test_failure_after_success_changes_nothing(shop: Shop, order: Order, product: int) -> None:
    shop.pay(order)
    assert shop.pay(order, success=False) is Outcome.IGNORED
    assert status(shop, order) is OrderStatus.SUCCESS
    assert shop.stock(product) == 3


@pytest.mark.parametrize("reversal", [
    {"is_refund": True, "has_parent_transaction": True},
    {"has_parent_transaction": True},
    {"is_refund": True, "success": False},
])
def test_partial_refund_after_success_is_recorded_and_the_order_stays_paid(
        shop: Shop, order: Order, product: int, reversal: dict[str, object]) -> None:
    shop.pay(order)
    assert shop.pay(order, amount=Money(5000, "EGP"), **reversal) is Outcome.REVERSAL_RECORDED
    assert status(shop, order) is OrderStatus.SUCCESS
    assert not shop.order(order.id).needs_refund
    assert shop.stock(product) == 3
    assert [e.is_reversal for e in ledger(shop, order)] == [False, True]


def test_void_made_in_the_dashboard_voids_the_order_and_returns_its_stock(
        shop: Shop, order: Order, product: int) -> None:
    shop.pay(order)
    assert shop.pay(order, is_void=True, has_parent_transaction=True) is \
        Outcome.REVERSAL_RECORDED
    voided = shop.order(order.id)
    assert voided.status is OrderStatus.VOIDED and shop.stock(product) == 5
    assert voided.refunded_amount == voided.paid_amount == order.total


def test_reversal_never_revives_or_fails_an_order(shop: Shop, order: Order,
                                                  product: int) -> None:
    assert shop.pay(order, is_void=True, has_parent_transaction=True) is Outcome.REVERSAL_RECORDED
    assert status(shop, order) is OrderStatus.PENDING
    time_out(shop, order)
    assert shop.pay(order, is_refund=True, has_parent_transaction=True) is (
        Outcome.REVERSAL_RECORDED)
    assert status(shop, order) is OrderStatus.TIMEOUT
    assert shop.stock(product) == 5


@pytest.mark.parametrize("amount", [Money(19999, "EGP"), Money(20001, "EGP"),
                                    Money(20000, "USD"), Money(0, "EGP")])
def test_amount_mismatch_is_recorded_and_rejected(shop: Shop, order: Order, product: int,
                                                  amount: Money) -> None:
    assert shop.pay(order, amount=amount) is Outcome.AMOUNT_MISMATCH
    assert status(shop, order) is OrderStatus.PENDING
    assert shop.stock(product) == 3
    [event] = ledger(shop, order)
    assert (event.outcome, event.amount) == (Outcome.AMOUNT_MISMATCH, amount)


def test_mismatched_decline_does_not_fail_the_order(shop: Shop, order: Order,
                                                    product: int) -> None:
    assert shop.pay(order, success=False, amount=Money(1, "EGP")) is Outcome.AMOUNT_MISMATCH
    assert status(shop, order) is OrderStatus.PENDING
    assert shop.stock(product) == 3


# A reference of another shop, or garbage, names no order: see test_paymob_references.
@pytest.mark.parametrize("naming", [999, None])
def test_callback_for_an_unknown_order_is_recorded(shop: Shop, order: Order,
                                                   naming: int | None) -> None:
    callback = evolve(shop.callback(order, transaction_id="t9"), order_id=naming)
    assert shop.deliver(callback) is Outcome.UNKNOWN_ORDER
    assert status(shop, order) is OrderStatus.PENDING
    [event] = [e for e in shop.uow.store.payment_events.values() if e.transaction_id == "t9"]
    assert (event.order_id, event.outcome) == (None, Outcome.UNKNOWN_ORDER)
    assert shop.deliver(callback) is Outcome.DUPLICATE


# --- late and double payments ------------------------------------------------------------

def test_late_success_on_a_timed_out_order_retakes_its_stock(shop: Shop, order: Order,
                                                             product: int) -> None:
    time_out(shop, order)
    assert shop.stock(product) == 5
    assert shop.pay(order) is Outcome.LATE_PAID
    assert status(shop, order) is OrderStatus.SUCCESS
    assert not shop.order(order.id).needs_refund
    assert shop.stock(product) == 3


def test_late_success_on_a_declined_order_retakes_its_stock(shop: Shop, order: Order,
                                                            product: int) -> None:
    shop.pay(order, success=False)
    assert shop.pay(order) is Outcome.LATE_PAID
    assert status(shop, order) is OrderStatus.SUCCESS
    assert shop.stock(product) == 3


def test_late_success_without_stock_flags_a_refund_and_keeps_the_status(
        shop: Shop, order: Order, product: int) -> None:
    time_out(shop, order)
    shop.place(shop.add_customer("bob"), (product, 4))
    assert shop.pay(order) is Outcome.NEEDS_REFUND
    stored = shop.order(order.id)
    assert stored.status is OrderStatus.TIMEOUT and stored.needs_refund
    assert shop.stock(product) == 1
    assert [e.outcome for e in ledger(shop, order)] == [Outcome.NEEDS_REFUND]


def test_late_success_for_a_since_deleted_product_flags_a_refund(shop: Shop, order: Order,
                                                                 product: int) -> None:
    time_out(shop, order)
    delete_product(shop.uow, shop.clock, product)
    assert shop.pay(order) is Outcome.NEEDS_REFUND
    assert status(shop, order) is OrderStatus.TIMEOUT
    assert shop.stock(product) == 5


def test_late_success_retakes_only_if_every_line_fits(shop: Shop) -> None:
    mug, cup = shop.add_product("Mug", stock=5), shop.add_product("Cup", stock=5)
    order = shop.place(shop.add_customer(), (mug, 2), (cup, 2))
    time_out(shop, order)
    update_product(shop.uow, shop.clock, cup, ProductChanges(stock=1))
    assert shop.pay(order) is Outcome.NEEDS_REFUND
    assert (shop.stock(mug), shop.stock(cup)) == (5, 1)


def test_second_distinct_success_on_a_paid_order_flags_a_refund(shop: Shop, order: Order,
                                                                product: int) -> None:
    shop.pay(order, transaction_id="t1")
    assert shop.pay(order, transaction_id="t2") is Outcome.NEEDS_REFUND
    stored = shop.order(order.id)
    assert stored.status is OrderStatus.SUCCESS and stored.needs_refund
    assert shop.stock(product) == 3


def test_expiry_after_payment_changes_nothing(shop: Shop, order: Order, product: int) -> None:
    shop.pay(order)
    shop.clock.advance(TIMEOUT)
    assert order.id is not None
    assert not expire_order(shop.uow, shop.clock, order.id)
    assert status(shop, order) is OrderStatus.SUCCESS
    assert shop.stock(product) == 3


def test_success_just_past_the_deadline_but_before_expiry_still_pays(
        shop: Shop, order: Order, product: int) -> None:
    shop.clock.advance(TIMEOUT * 2)
    assert shop.pay(order) is Outcome.PAID
    assert order.id is not None
    assert not expire_order(shop.uow, shop.clock, order.id)
    assert shop.stock(product) == 3


# --- matching a callback to its order ----------------------------------------------------

def test_reference_pointing_at_an_order_of_another_provider_order_is_unknown(
        shop: Shop, order: Order, product: int) -> None:
    # The merchant reference is not signed; the provider order id is.
    callback = shop.callback(order)
    forged = PaymentCallback(
        callback.transaction_id, callback.amount, True, False, False, False, False,
        order_id=order.id, provider_order_id="999999")
    assert shop.deliver(forged) is Outcome.UNKNOWN_ORDER
    assert status(shop, order) is OrderStatus.PENDING
    assert shop.stock(product) == 3


def test_reference_alone_finds_the_order_when_no_provider_order_id_is_sent(
        shop: Shop, order: Order) -> None:
    assert shop.pay(order) is Outcome.PAID


def test_provider_order_id_wins_over_the_reference(shop: Shop, product: int) -> None:
    user = shop.add_customer()
    first, second = shop.place(user, (product, 1)), shop.place(user, (product, 1))
    assert second.payment is not None
    callback = shop.callback(first)
    crossed = PaymentCallback(
        callback.transaction_id, callback.amount, True, False, False, False, False,
        order_id=first.id, provider_order_id=second.payment.provider_order_id)
    assert shop.deliver(crossed) is Outcome.PAID
    assert (status(shop, first), status(shop, second)) == (OrderStatus.PENDING,
                                                           OrderStatus.SUCCESS)


def test_final_outcome_after_a_pending_notice_of_the_same_transaction_is_applied(
        shop: Shop, order: Order, product: int) -> None:
    assert shop.pay(order, transaction_id="t9", success=False, pending=True) \
        is Outcome.STILL_PENDING
    assert shop.pay(order, transaction_id="t9") is Outcome.PAID
    assert status(shop, order) is OrderStatus.SUCCESS
    # The pending notice replayed late is still a repeat, and changes nothing.
    assert shop.pay(order, transaction_id="t9", success=False, pending=True) \
        is Outcome.DUPLICATE
    assert status(shop, order) is OrderStatus.SUCCESS
