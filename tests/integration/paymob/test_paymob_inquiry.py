"""Reconciliation and cancellation against a real HTTP server on 127.0.0.1 playing Paymob:
its auth tokens, its transaction inquiry and its intention update."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest

from shop_adapters.paymob.callbacks import verify_transaction_callback
from shop_adapters.paymob.check import AUTH_PATH
from shop_adapters.paymob.gateway import PaymobGateway
from shop_adapters.paymob.inquiry import INQUIRY_PATH, PaymobLookup
from shop_adapters.paymob.sandbox import build_transaction_callback
from shop_core.errors import PaymentProviderError
from shop_core.orders import Order, OrderStatus
from shop_core.payments import CallbackOutcome, PaymentState
from shop_core.testing import FakePaymentGateway
from shop_core.use_cases.cancelling import CancelOrder, cancel_order
from shop_core.use_cases.expiry import expire_overdue_orders
from shop_core.use_cases.ordering import place_order
from shop_core.use_cases.payments import apply_payment_callback
from shop_core.use_cases.reconciliation import ReconcilePolicy, Reconciler

from .conftest import API_KEY, SECRET_KEY, ShopWorld, StubServer, make_settings

GRACE = timedelta(seconds=60)


def place(world: ShopWorld) -> Order:
    return place_order(world.uow, world.services(FakePaymentGateway()), world.cart())


def reconciler(world: ShopWorld, stub: StubServer, **policy: Any) -> Reconciler:
    lookup = PaymobLookup(make_settings(stub.url), world.clock)
    return Reconciler(lambda: world.uow, lookup, world.clock,
                      ReconcilePolicy(grace=GRACE, spacing=0.0, **policy))


def paymob_answers(stub: StubServer, world: ShopWorld, order: Order, *, success: bool = True,
                   transaction_id: int = 987001) -> tuple[dict[str, Any], str]:
    """Paymob knows a transaction for `order`: the inquiry reports it."""
    body, signature = build_transaction_callback(
        order, success=success, transaction_id=transaction_id, settings=make_settings(stub.url),
        now=world.clock.now())
    stub.route("POST", AUTH_PATH, 201, {"token": "tok-1", "profile": {"id": 1}})
    stub.route("POST", INQUIRY_PATH, 200, body["obj"])
    return body, signature


def status(world: ShopWorld, order: Order) -> OrderStatus:
    with world.uow:
        stored = world.uow.orders.get(order.id or 0)
    assert stored is not None
    return stored.status


def test_paid_order_whose_callback_never_came_ends_success_and_the_late_callback_changes_nothing(
        world: ShopWorld, stub_server: StubServer) -> None:
    order = place(world)
    body, signature = paymob_answers(stub_server, world, order)
    world.clock.advance(timedelta(minutes=10))

    report = reconciler(world, stub_server).reconcile_overdue()
    expire_overdue_orders(world.uow, world.clock, grace=GRACE)

    assert report.changed == 1 and status(world, order) is OrderStatus.SUCCESS
    assert world.stock(world.pen_id) == 8
    [auth] = stub_server.on(AUTH_PATH)
    assert auth.json() == {"api_key": API_KEY}
    [inquiry] = stub_server.on(INQUIRY_PATH)
    assert inquiry.json() == {"merchant_order_id": f"shop-{order.id}"}
    assert inquiry.headers["Authorization"] == "Bearer tok-1"
    late = verify_transaction_callback(body, signature, make_settings(stub_server.url)
                                       .hmac_secret)
    assert late is not None
    assert apply_payment_callback(world.uow, world.clock, late) is CallbackOutcome.DUPLICATE
    assert status(world, order) is OrderStatus.SUCCESS and world.stock(world.pen_id) == 8


def test_an_order_paymob_knows_nothing_of_expires_after_the_inquiry(
        world: ShopWorld, stub_server: StubServer) -> None:
    order = place(world)
    stub_server.route("POST", AUTH_PATH, 201, {"token": "tok-1"})
    stub_server.route("POST", INQUIRY_PATH, 404, {"detail": "Not found."})
    world.clock.advance(timedelta(minutes=10))
    assert expire_overdue_orders(world.uow, world.clock, grace=GRACE) == 0  # waits

    assert reconciler(world, stub_server).reconcile_overdue().asked == 1
    assert expire_overdue_orders(world.uow, world.clock, grace=GRACE) == 1
    assert status(world, order) is OrderStatus.TIMEOUT
    assert world.stock(world.pen_id) == 10


def test_the_token_is_kept_under_its_hour_and_fetched_again_when_refused(
        world: ShopWorld, stub_server: StubServer) -> None:
    first, second = place(world), place(world)
    paymob_answers(stub_server, world, first)
    lookup = PaymobLookup(make_settings(stub_server.url), world.clock)
    lookup.find_payment(first)
    lookup.find_payment(first)
    assert len(stub_server.on(AUTH_PATH)) == 1
    world.clock.advance(timedelta(minutes=50))
    lookup.find_payment(first)
    assert len(stub_server.on(AUTH_PATH)) == 2

    stub_server.route("POST", INQUIRY_PATH, 401, {"detail": "expired"})
    with pytest.raises(PaymentProviderError):
        lookup.find_payment(second)
    assert len(stub_server.on(AUTH_PATH)) == 3  # one fresh token, not a loop


def test_an_answer_about_another_order_is_refused(world: ShopWorld,
                                                   stub_server: StubServer) -> None:
    first, second = place(world), place(world)
    paymob_answers(stub_server, world, first)
    world.clock.advance(timedelta(minutes=10))
    report = reconciler(world, stub_server).reconcile_overdue()
    assert (report.asked, report.changed, report.failed) == (1, 1, 1)
    assert status(world, first) is OrderStatus.SUCCESS
    assert status(world, second) is OrderStatus.PENDING


def test_an_inquiry_outage_is_bounded_in_time_and_expiry_still_happens(
        world: ShopWorld, stub_server: StubServer) -> None:
    orders = [place(world) for _ in range(2)]
    stub_server.route("POST", AUTH_PATH, 201, {"token": "tok-1"})
    stub_server.delay = 3.0  # every answer comes after the 0.5 s read timeout
    world.clock.advance(timedelta(minutes=10))
    started = time.monotonic()

    report = reconciler(world, stub_server, threshold=2).reconcile_overdue()

    assert time.monotonic() - started < 2.5
    assert report.failed == 2 and report.asked == 0
    assert expire_overdue_orders(world.uow, world.clock, grace=GRACE) == 0
    world.clock.advance(GRACE)
    assert expire_overdue_orders(world.uow, world.clock, grace=GRACE) == 2
    assert {status(world, o) for o in orders} == {OrderStatus.TIMEOUT}
    assert world.stock(world.pen_id) == 10


def test_a_refused_connection_opens_the_breaker(world: ShopWorld, refused_url: str) -> None:
    for _ in range(5):
        place(world)
    world.clock.advance(timedelta(minutes=10))
    lookup = PaymobLookup(make_settings(refused_url), world.clock)
    sweeper = Reconciler(lambda: world.uow, lookup, world.clock,
                         ReconcilePolicy(spacing=0.0, threshold=3))
    assert sweeper.reconcile_overdue().failed == 3
    assert sweeper.reconcile_overdue().failed == 0  # not asking while the breaker is open
    world.clock.advance(timedelta(minutes=2))
    assert sweeper.reconcile_overdue().failed == 1  # one try after the cooldown


def test_a_kiosk_pending_answer_shows_the_bill_reference(world: ShopWorld,
                                                         stub_server: StubServer) -> None:
    order = place(world)
    body, _ = paymob_answers(stub_server, world, order)
    obj = body["obj"]
    obj.update(pending=True, success=False, source_data={"type": "aggregator", "pan": None,
                                                         "sub_type": "AGGREGATOR"})
    obj["data"]["bill_reference"] = 7412589
    stub_server.route("POST", INQUIRY_PATH, 200, obj)
    world.clock.advance(timedelta(minutes=9, seconds=30))

    assert reconciler(world, stub_server).reconcile().changed == 1
    with world.uow:
        stored = world.uow.orders.get(order.id or 0)
    assert stored is not None and stored.status is OrderStatus.PENDING
    assert stored.payment_state is PaymentState.AWAITING_KIOSK_PAYMENT
    assert stored.payment_reference == "7412589"


def test_cancel_shortens_the_intention_at_paymob_after_the_commit(
        world: ShopWorld, stub_server: StubServer) -> None:
    stub_server.reply_json(201, {"id": "pi_test_1", "client_secret": "egy_csk_test_a+b/c=",
                                 "intention_order_id": 217503754})
    gateway = PaymobGateway(make_settings(stub_server.url), world.clock)
    order = place_order(world.uow, world.services(gateway), world.cart())

    cancelled = cancel_order(world.uow, world.clock, gateway,
                             CancelOrder(order.id or 0, world.user_id))

    assert cancelled.status is OrderStatus.CANCELLED and world.stock(world.pen_id) == 10
    update = stub_server.requests[-1]
    assert (update.method, update.path) == ("PUT", "/v1/intention/egy_csk_test_a%2Bb%2Fc%3D")
    assert update.headers["Authorization"] == f"Token {SECRET_KEY}"
    assert json.loads(update.body) == {"amount": 22499, "accept_order_id": 217503754,
                                       "expiration": 1}


def test_paymob_refusing_to_close_leaves_the_order_cancelled(
        world: ShopWorld, stub_server: StubServer) -> None:
    stub_server.reply_json(201, {"id": "pi_test_1", "client_secret": "egy_csk_test_x",
                                 "intention_order_id": 217503754})
    gateway = PaymobGateway(make_settings(stub_server.url), world.clock)
    order = place_order(world.uow, world.services(gateway), world.cart())
    stub_server.reply_json(400, {"accept_order_id": ["This field is required."]})

    cancel_order(world.uow, world.clock, gateway, CancelOrder(order.id or 0, world.user_id))

    assert status(world, order) is OrderStatus.CANCELLED and world.stock(world.pen_id) == 10
