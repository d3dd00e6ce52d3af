"""Refunds, voids and captures: the balance held before the provider is asked, settled
once by its answer or its callback, whichever comes first."""

from __future__ import annotations

import pytest

from shop_core.errors import PaymentProviderError
from shop_core.ledger import Movement, NotCapturable, NothingToRefund, NotVoidable, OverRefund
from shop_core.ledger import Result as R
from shop_core.orders import Order, OrderStatus
from shop_core.payments import CallbackOutcome as Outcome
from shop_core.payments import ProviderTransaction
from shop_core.use_cases.expiry import expire_overdue_orders
from shop_core.use_cases.operations import (
    Capture,
    Refund,
    Void,
    capture_order,
    refund_order,
    void_order,
)
from tests.unit.builders import TIMEOUT, Shop, egp, ledger_sums

STAFF = 99


@pytest.fixture
def shop() -> Shop:
    return Shop()


@pytest.fixture
def product(shop: Shop) -> int:
    return shop.add_product(price="100.00", stock=5)


@pytest.fixture
def paid(shop: Shop, product: int) -> Order:
    order = shop.place(shop.add_customer(), (product, 2))  # 200.00
    assert shop.pay(order, transaction_id="pay-1") is Outcome.PAID
    return shop.order(order.id)


def refund(shop: Shop, order: Order, amount: str | None = None, **kw: object) -> object:
    return refund_order(shop.uow, shop.operation_services, Refund(
        order.id or 0, STAFF, egp(amount) if amount else None, **kw))  # type: ignore[arg-type]


def amounts(shop: Shop, order: Order) -> tuple[str, str, OrderStatus]:
    stored = shop.order(order.id)
    assert stored.balance == ledger_sums(shop.uow, order.id or 0)
    return stored.paid_amount.format(), stored.refunded_amount.format(), stored.status


def test_partial_then_the_rest_refunds_everything(shop: Shop, paid: Order,
                                                  product: int) -> None:
    first = refund(shop, paid, "50.00", reason="scratched")
    assert first.result is R.SUCCEEDED and first.started_by == STAFF  # type: ignore[attr-defined]
    assert amounts(shop, paid) == ("200.00", "50.00", OrderStatus.SUCCESS)
    refund(shop, paid)
    assert amounts(shop, paid) == ("200.00", "200.00", OrderStatus.REFUNDED)
    assert shop.stock(product) == 3  # no restock: the goods stay with the customer
    assert [call[:2] for call in shop.operations.calls] == [("refund", "pay-1")] * 2
    assert [call[2] for call in shop.operations.calls] == [egp("50.00"), egp("150.00")]


def test_a_full_refund_with_restock_puts_the_stock_back(shop: Shop, paid: Order,
                                                        product: int) -> None:
    refund(shop, paid, restock=True)
    assert amounts(shop, paid)[2] is OrderStatus.REFUNDED and shop.stock(product) == 5


def test_restock_is_for_refunds_of_everything_left(shop: Shop, paid: Order) -> None:
    with pytest.raises(Exception, match="restock"):
        refund(shop, paid, "10.00", restock=True)
    assert amounts(shop, paid) == ("200.00", "0.00", OrderStatus.SUCCESS)


def test_over_refund_and_nothing_captured_are_conflicts(shop: Shop, paid: Order,
                                                        product: int) -> None:
    with pytest.raises(OverRefund):
        refund(shop, paid, "200.01")
    unpaid = shop.place(shop.add_customer("bob"), (product, 1))
    with pytest.raises(NothingToRefund):
        refund(shop, unpaid)
    assert shop.operations.calls == []
    assert amounts(shop, paid) == ("200.00", "0.00", OrderStatus.SUCCESS)


def test_a_refused_refund_releases_the_amount(shop: Shop, paid: Order) -> None:
    shop.operations.answer = "refuse"
    with pytest.raises(PaymentProviderError):
        refund(shop, paid, "80.00")
    assert shop.order(paid.id).balance.held == 0
    [_, entry] = ledger(shop, paid)
    assert entry.result is R.FAILED
    shop.operations.answer = "succeed"
    refund(shop, paid)  # the whole balance is still refundable
    assert amounts(shop, paid)[1] == "200.00"


def ledger(shop: Shop, order: Order) -> list:  # type: ignore[type-arg]
    return [e for e in shop.uow.store.payment_events.values() if e.order_id == order.id]


def test_a_timeout_holds_the_amount_until_the_callback_settles_it(shop: Shop,
                                                                  paid: Order) -> None:
    made: list[ProviderTransaction] = []
    shop.operations.answer = "timeout"
    shop.operations.before_answer = made.append
    entry = refund(shop, paid, "120.00")
    assert entry.result is R.UNKNOWN  # type: ignore[attr-defined]
    assert shop.order(paid.id).balance.held == 12000
    with pytest.raises(OverRefund):  # the held amount is not refundable twice
        refund(shop, paid, "100.00")
    callback = shop.callback(paid, transaction_id=made[0].transaction_id, amount=egp("120.00"),
                             is_refund=True, has_parent_transaction=True)
    assert shop.deliver(callback) is Outcome.REVERSAL_RECORDED
    assert amounts(shop, paid) == ("200.00", "120.00", OrderStatus.SUCCESS)
    assert [e.result for e in ledger(shop, paid)] == [R.SUCCEEDED, R.SUCCEEDED]
    assert ledger(shop, paid)[1].started_by == STAFF


def test_callback_before_the_answer_counts_once(shop: Shop, paid: Order) -> None:
    def deliver_first(made: ProviderTransaction) -> None:
        shop.deliver(shop.callback(paid, transaction_id=made.transaction_id,
                                   amount=made.amount, is_refund=True,
                                   has_parent_transaction=True))
    shop.operations.before_answer = deliver_first
    refund(shop, paid, "30.00")
    assert amounts(shop, paid) == ("200.00", "30.00", OrderStatus.SUCCESS)
    assert len(ledger(shop, paid)) == 2


def test_answer_before_the_callback_counts_once(shop: Shop, paid: Order) -> None:
    entry = refund(shop, paid, "30.00")
    callback = shop.callback(paid, transaction_id=entry.transaction_id,  # type: ignore[attr-defined]
                             amount=egp("30.00"), is_refund=True, has_parent_transaction=True)
    assert shop.deliver(callback) is Outcome.DUPLICATE
    assert amounts(shop, paid) == ("200.00", "30.00", OrderStatus.SUCCESS)


def test_a_refund_made_in_the_dashboard_is_recorded_and_reflected(shop: Shop,
                                                                  paid: Order) -> None:
    callback = shop.callback(paid, amount=egp("200.00"), is_refund=True,
                             has_parent_transaction=True)
    assert shop.deliver(callback) is Outcome.REVERSAL_RECORDED
    assert amounts(shop, paid) == ("200.00", "200.00", OrderStatus.REFUNDED)
    assert ledger(shop, paid)[1].started_by is None
    with pytest.raises(NothingToRefund):
        refund(shop, paid)


def test_refunding_a_needs_refund_order_clears_the_flag(shop: Shop, product: int) -> None:
    order = shop.place(shop.add_customer(), (product, 1))
    shop.pay(order)
    assert shop.pay(order) is Outcome.NEEDS_REFUND  # paid twice
    assert amounts(shop, order) == ("200.00", "0.00", OrderStatus.SUCCESS)
    refund(shop, order, "50.00")
    assert shop.order(order.id).needs_refund  # still owed 50.00
    refund(shop, order, "50.00")
    assert not shop.order(order.id).needs_refund
    assert amounts(shop, order) == ("200.00", "100.00", OrderStatus.SUCCESS)


def test_a_void_cancels_the_payment_and_returns_the_stock(shop: Shop, paid: Order,
                                                          product: int) -> None:
    void_order(shop.uow, shop.operation_services, Void(paid.id or 0, STAFF))
    assert amounts(shop, paid) == ("200.00", "200.00", OrderStatus.VOIDED)
    assert shop.stock(product) == 5


def test_a_void_refused_after_settlement_says_to_refund(shop: Shop, paid: Order) -> None:
    shop.operations.answer = "refuse"
    with pytest.raises(NotVoidable, match="refund it instead"):
        void_order(shop.uow, shop.operation_services, Void(paid.id or 0, STAFF))
    assert amounts(shop, paid) == ("200.00", "0.00", OrderStatus.SUCCESS)
    shop.operations.answer = "succeed"
    refund(shop, paid, "10.00")
    with pytest.raises(NotVoidable):  # part of it went back already
        void_order(shop.uow, shop.operation_services, Void(paid.id or 0, STAFF))


@pytest.fixture
def authorized(shop: Shop, product: int) -> Order:
    order = shop.place(shop.add_customer(), (product, 2))
    assert shop.pay(order, transaction_id="auth-1", is_auth=True) is Outcome.AUTHORIZED
    return shop.order(order.id)


def test_an_authorization_never_marks_the_order_paid(shop: Shop, authorized: Order,
                                                     product: int) -> None:
    assert amounts(shop, authorized) == ("0.00", "0.00", OrderStatus.AUTHORIZED)
    assert shop.stock(product) == 3
    with pytest.raises(NothingToRefund):
        refund(shop, authorized)


def test_a_capture_pays_the_authorized_order(shop: Shop, authorized: Order) -> None:
    with pytest.raises(NotCapturable):
        capture_order(shop.uow, shop.operation_services,
                      Capture(authorized.id or 0, STAFF, egp("200.01")))
    entry = capture_order(shop.uow, shop.operation_services,
                          Capture(authorized.id or 0, STAFF, egp("150.00")))
    assert entry.movement is Movement.CAPTURE and entry.result is R.SUCCEEDED
    assert shop.operations.calls == [("capture", "auth-1", egp("150.00"))]
    assert amounts(shop, authorized) == ("150.00", "0.00", OrderStatus.SUCCESS)
    refund(shop, authorized)
    assert shop.operations.calls[-1] == ("refund", "auth-1", egp("150.00"))
    assert amounts(shop, authorized) == ("150.00", "150.00", OrderStatus.REFUNDED)


def test_an_authorization_expires_like_a_pending_order(shop: Shop, authorized: Order,
                                                       product: int) -> None:
    shop.clock.advance(TIMEOUT)
    assert expire_overdue_orders(shop.uow, shop.clock) == 1
    assert shop.order(authorized.id).status is OrderStatus.TIMEOUT
    assert shop.stock(product) == 5


def test_voiding_an_authorization_returns_the_stock(shop: Shop, authorized: Order,
                                                    product: int) -> None:
    void_order(shop.uow, shop.operation_services, Void(authorized.id or 0, STAFF))
    assert amounts(shop, authorized) == ("0.00", "0.00", OrderStatus.VOIDED)
    assert shop.stock(product) == 5


def test_reconciliation_settles_a_refund_left_unknown(shop: Shop, paid: Order) -> None:
    made: list[ProviderTransaction] = []
    shop.operations.answer = "timeout"
    shop.operations.before_answer = made.append
    refund(shop, paid, "70.00")
    assert shop.order(paid.id).balance.held == 7000
    # Paymob's inquiry answers the order's latest transaction: the refund it did make.
    assert paid.id is not None
    shop.gateway.payments[paid.id] = shop.callback(
        paid, transaction_id=made[0].transaction_id, amount=egp("70.00"), is_refund=True,
        has_parent_transaction=True)
    shop.reconciler().reconcile()
    assert paid.id in shop.gateway.lookups
    assert amounts(shop, paid) == ("200.00", "70.00", OrderStatus.SUCCESS)
    assert shop.order(paid.id).balance.held == 0


def test_an_authorization_being_captured_does_not_expire_meanwhile(
        shop: Shop, authorized: Order) -> None:
    def sweep_first(_: ProviderTransaction) -> None:
        shop.clock.advance(TIMEOUT)
        assert expire_overdue_orders(shop.uow, shop.clock) == 0
    shop.operations.before_answer = sweep_first
    capture_order(shop.uow, shop.operation_services, Capture(authorized.id or 0, STAFF))
    assert amounts(shop, authorized) == ("200.00", "0.00", OrderStatus.SUCCESS)


def announced(shop: Shop, order: Order) -> list[tuple[str, str | None, str]]:
    """The order's money events: type, the amount refunded, and the order's status then."""
    return [(event.type.value, event.data.get("amount"), event.data["status"])
            for event, _ in shop.uow.store.outbox
            if event.order_id == order.id and event.type.value in (
                "order.paid", "order.refunded", "order.voided")]


def test_each_refund_is_announced_with_its_amount_once(shop: Shop, paid: Order) -> None:
    refund(shop, paid, "50.00")
    refund(shop, paid)
    assert announced(shop, paid) == [("order.paid", None, "success"),
                                     ("order.refunded", "50.00", "success"),
                                     ("order.refunded", "150.00", "refunded")]


def test_a_refused_refund_announces_nothing(shop: Shop, paid: Order) -> None:
    shop.operations.answer = "refuse"
    with pytest.raises(PaymentProviderError):
        refund(shop, paid, "50.00")
    assert announced(shop, paid) == [("order.paid", None, "success")]


def test_a_void_is_announced(shop: Shop, paid: Order) -> None:
    void_order(shop.uow, shop.operation_services, Void(paid.id or 0, STAFF))
    assert announced(shop, paid)[-1] == ("order.voided", None, "voided")


def test_a_capture_announces_the_payment(shop: Shop, authorized: Order) -> None:
    assert announced(shop, authorized) == []  # an authorization is no payment
    capture_order(shop.uow, shop.operation_services, Capture(authorized.id or 0, STAFF, None))
    assert announced(shop, authorized) == [("order.paid", None, "success")]
