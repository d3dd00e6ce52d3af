"""Refunds, voids and captures against a real HTTP server playing Paymob: the requests the
shop sends, and what each kind of answer (or silence) leaves on the order."""

from __future__ import annotations

from typing import Any

import pytest

from shop_adapters.paymob.operations import PaymobOperations
from shop_core.errors import OutcomeUnknown, PaymentProviderError, ProviderRefused
from shop_core.ledger import NothingToRefund, NotVoidable, OverRefund
from shop_core.ledger import Result as R
from shop_core.money import Money
from shop_core.orders import Order, OrderStatus
from shop_core.payments import PaymentCallback, PaymentEvent
from shop_core.testing import FakePaymentGateway
from shop_core.use_cases import operations, payments
from shop_core.use_cases.ordering import place_order

from .conftest import SECRET_KEY, Recorded, ShopWorld, StubServer, make_settings

PAYMENT_ID = 555123456
STAFF = 7


def _answer(transaction_id: int, amount: int, *, success: bool = True,
            **flags: bool) -> dict[str, Any]:
    return {"id": transaction_id, "pending": False, "amount_cents": amount,
            "success": success, "is_refund": False, "is_void": False, "is_capture": False,
            "is_auth": False, "currency": "EGP", "parent_transaction": PAYMENT_ID,
            "order": {"id": 987654321, "merchant_order_id": "shop-1"}, **flags}


def _paid(world: ShopWorld, *, is_auth: bool = False) -> Order:
    order = place_order(world.uow, world.services(FakePaymentGateway()), world.cart())
    payments.apply_payment_callback(world.uow, world.clock, PaymentCallback(
        transaction_id=str(PAYMENT_ID), amount=order.total, success=True, pending=False,
        is_refund=False, is_void=False, has_parent_transaction=False, order_id=order.id,
        provider_order_id=None, is_auth=is_auth))
    return order


def _services(world: ShopWorld, stub: StubServer, **timeouts: float
              ) -> operations.OperationServices:
    return operations.OperationServices(
        PaymobOperations(make_settings(stub.url, **timeouts)), world.clock)


def _refund(world: ShopWorld, stub: StubServer, order: Order, amount: int | None = None,
            **timeouts: float) -> PaymentEvent:
    return operations.refund_order(world.uow, _services(world, stub, **timeouts),
                                   operations.Refund(
        order.id or 0, STAFF, Money(amount, "EGP") if amount is not None else None))


def _stored(world: ShopWorld, order: Order) -> Order:
    with world.uow:
        stored = world.uow.orders.get(order.id or 0)
    assert stored is not None
    return stored


def _ledger(world: ShopWorld, order: Order) -> list[PaymentEvent]:
    with world.uow:
        return world.uow.payment_events.list_for_order(order.id or 0)


def test_a_refund_posts_integers_with_the_secret_key(world: ShopWorld,
                                                     stub_server: StubServer) -> None:
    order = _paid(world)
    stub_server.reply_json(200, _answer(555123457, 5000, is_refund=True))
    entry = _refund(world, stub_server, order, 5000)
    [request] = stub_server.requests
    assert request.path == "/api/acceptance/void_refund/refund"
    assert request.headers["Authorization"] == f"Token {SECRET_KEY}"
    assert request.json() == {"transaction_id": PAYMENT_ID, "amount_cents": 5000}
    assert (entry.result, entry.transaction_id) == (R.SUCCEEDED, "555123457")
    assert _stored(world, order).refunded_amount == Money(5000, "EGP")


def test_partial_then_full_refund_then_over_refund(world: ShopWorld,
                                                   stub_server: StubServer) -> None:
    order = _paid(world)  # 224.99
    stub_server.reply_json(200, _answer(1001, 4999, is_refund=True))
    _refund(world, stub_server, order, 4999)
    stub_server.reply_json(200, _answer(1002, 17500, is_refund=True))
    _refund(world, stub_server, order)
    assert [r.json()["amount_cents"] for r in stub_server.requests] == [4999, 17500]
    stored = _stored(world, order)
    assert stored.status is OrderStatus.REFUNDED and stored.refunded_amount == order.total
    with pytest.raises(NothingToRefund):
        _refund(world, stub_server, order, 1)
    assert len(stub_server.requests) == 2


def test_more_than_the_refundable_balance_never_reaches_paymob(
        world: ShopWorld, stub_server: StubServer) -> None:
    order = _paid(world)
    with pytest.raises(OverRefund):
        _refund(world, stub_server, order, order.total.amount + 1)
    assert stub_server.requests == []


@pytest.mark.parametrize("status", [400, 401, 404])
def test_a_refusal_fails_the_refund_and_releases_the_amount(
        world: ShopWorld, stub_server: StubServer, status: int) -> None:
    order = _paid(world)
    stub_server.reply_json(status, {"detail": "Transaction not found"})
    with pytest.raises(ProviderRefused):
        _refund(world, stub_server, order, 1000)
    assert _stored(world, order).balance.refundable == order.total.amount
    assert _ledger(world, order)[-1].result is R.FAILED


def test_a_declining_answer_fails_the_refund(world: ShopWorld,
                                             stub_server: StubServer) -> None:
    order = _paid(world)
    stub_server.reply_json(200, _answer(1003, 1000, success=False, is_refund=True))
    with pytest.raises(ProviderRefused):
        _refund(world, stub_server, order, 1000)
    assert _stored(world, order).balance.held == 0


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_leaves_the_refund_unknown_and_held(
        world: ShopWorld, stub_server: StubServer, status: int) -> None:
    order = _paid(world)
    stub_server.reply_text(status, "<html>Bad gateway</html>")
    entry = _refund(world, stub_server, order, 1000)
    assert entry.result is R.UNKNOWN
    assert _stored(world, order).balance.held == 1000


def test_a_slow_provider_past_the_timeout_is_unknown_not_failed(
        world: ShopWorld, stub_server: StubServer) -> None:
    order = _paid(world)
    stub_server.delay = 2.0
    entry = _refund(world, stub_server, order, 1000, read_timeout=0.3)
    assert entry.result is R.UNKNOWN and len(stub_server.requests) == 1  # never retried
    assert _stored(world, order).balance.held == 1000


def test_an_unreachable_provider_is_a_plain_failure(world: ShopWorld,
                                                    refused_url: str) -> None:
    order = _paid(world)
    services = operations.OperationServices(PaymobOperations(make_settings(refused_url)),
                                            world.clock)
    with pytest.raises(PaymentProviderError) as failure:
        operations.refund_order(world.uow, services,
                                operations.Refund(order.id or 0, STAFF))
    assert not isinstance(failure.value, OutcomeUnknown)
    assert _stored(world, order).balance.held == 0


def _refund_callback(order: Order, transaction_id: int, amount: int) -> PaymentCallback:
    return PaymentCallback(
        transaction_id=str(transaction_id), amount=Money(amount, "EGP"), success=True,
        pending=False, is_refund=True, is_void=False, has_parent_transaction=True,
        order_id=order.id, provider_order_id=None, parent_transaction_id=str(PAYMENT_ID))


def test_the_callback_before_the_answer_counts_once(world: ShopWorld,
                                                    stub_server: StubServer) -> None:
    order = _paid(world)
    stub_server.reply_json(200, _answer(2001, 3000, is_refund=True))

    def callback_first(_: Recorded) -> None:
        payments.apply_payment_callback(world.uow, world.clock,
                                        _refund_callback(order, 2001, 3000))
    stub_server.before_reply = callback_first
    entry = _refund(world, stub_server, order, 3000)
    assert entry.result is R.SUCCEEDED and entry.transaction_id == "2001"
    assert _stored(world, order).refunded_amount == Money(3000, "EGP")
    assert len(_ledger(world, order)) == 2


def test_the_answer_before_the_callback_counts_once(world: ShopWorld,
                                                    stub_server: StubServer) -> None:
    order = _paid(world)
    stub_server.reply_json(200, _answer(2002, 3000, is_refund=True))
    _refund(world, stub_server, order, 3000)
    outcome = payments.apply_payment_callback(world.uow, world.clock,
                                              _refund_callback(order, 2002, 3000))
    assert outcome.value == "duplicate"
    assert _stored(world, order).refunded_amount == Money(3000, "EGP")


def test_a_void_after_settlement_is_refused_with_advice_to_refund(
        world: ShopWorld, stub_server: StubServer) -> None:
    order = _paid(world)
    stub_server.reply_json(400, {"detail": "Transaction can not be voided"})
    with pytest.raises(NotVoidable, match="refund it instead"):
        operations.void_order(world.uow, _services(world, stub_server),
                              operations.Void(order.id or 0, STAFF))
    [request] = stub_server.requests
    assert request.path == "/api/acceptance/void_refund/void"
    assert request.json() == {"transaction_id": PAYMENT_ID}
    assert _stored(world, order).status is OrderStatus.SUCCESS


def test_a_void_before_settlement_voids_the_order(world: ShopWorld,
                                                  stub_server: StubServer) -> None:
    order = _paid(world)
    stub_server.reply_json(200, _answer(3001, order.total.amount, is_void=True))
    operations.void_order(world.uow, _services(world, stub_server),
                          operations.Void(order.id or 0, STAFF))
    stored = _stored(world, order)
    assert stored.status is OrderStatus.VOIDED and world.stock(world.pen_id) == 10


def test_a_capture_collects_the_authorization(world: ShopWorld,
                                              stub_server: StubServer) -> None:
    order = _paid(world, is_auth=True)
    assert _stored(world, order).status is OrderStatus.AUTHORIZED
    stub_server.reply_json(200, _answer(4001, 20000, is_capture=True))
    operations.capture_order(world.uow, _services(world, stub_server),
                             operations.Capture(order.id or 0, STAFF, Money(20000, "EGP")))
    [request] = stub_server.requests
    assert request.path == "/api/acceptance/capture"
    assert request.headers["Authorization"] == f"Token {SECRET_KEY}"
    assert request.json() == {"transaction_id": PAYMENT_ID, "amount_cents": 20000}
    stored = _stored(world, order)
    assert stored.status is OrderStatus.SUCCESS and stored.paid_amount == Money(20000, "EGP")
