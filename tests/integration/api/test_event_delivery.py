"""Events reach a real receiver on 127.0.0.1, signed, once each, retried until answered."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from shop_adapters.webhooks.sender import HttpWebhookSender
from shop_adapters.webhooks.targets import TargetPolicy
from shop_core.events import Event, EventType
from shop_core.subscriptions import Subscription
from shop_core.testing import FakeClock
from tests.receivers import Receiver, smtp_server

from .conftest import Api, AppFactory
from .test_webhook import _callback, _deliver, _place

HOOKS = "/api/v1/webhooks/"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


def subscribe(api: Api, receiver: Receiver,
              events: list[str] | None = None) -> tuple[int, str]:
    created = api.http.post(HOOKS, headers=api.auth("admin"), json={
        "url": receiver.url, "events": events or [t.value for t in EventType]})
    assert created.status_code == 201, created.json
    return int(created.json["id"]), str(created.json["secret"])


def advance(api: Api, delta: timedelta) -> None:
    clock = api.shop.clock
    assert isinstance(clock, FakeClock)
    clock.advance(delta)


def pay(api: Api, order_id: int, *, success: bool = True) -> None:
    assert _deliver(api, _callback(api, order_id, success=success)).status_code == 200


def test_every_event_arrives_once_signed_and_in_order(client: Api, receiver: Receiver) -> None:
    _, secret = subscribe(client, receiver)
    admin = client.auth("admin")
    lamp, mug = client.product("Lamp", stock=2), client.product("Mug", stock=5)
    sold_out, _ = _place(client, lamp, 2)  # order.placed, product.out_of_stock
    pay(client, sold_out)  # order.paid
    money = {**admin, "Idempotency-Key": "refund-1"}
    assert client.http.post(f"/api/v1/orders/{sold_out}/refunds/", headers=money,
                            json={"amount": "100.00"}).status_code == 201  # order.refunded
    cup = client.product("Cup", stock=5)
    voided, _ = _place(client, cup, 1)
    pay(client, voided)
    assert client.http.post(f"/api/v1/orders/{voided}/void/", headers={
        **admin, "Idempotency-Key": "void-1"}).status_code == 201  # order.voided
    declined, _ = _place(client, mug, 1)
    pay(client, declined, success=False)  # order.payment_failed
    late, _ = _place(client, mug, 1)
    advance(client, timedelta(minutes=11))
    assert client.shop.expire_overdue_orders() == 1  # order.expired
    assert client.http.patch(f"/api/v1/products/{mug}/", headers=admin,
                             json={"stock": 0}).status_code == 200
    pay(client, late)  # paid, but the mug is gone: order.needs_refund
    lamp_again = client.product("Lamp", stock=1)
    let_go, auth = _place(client, lamp_again, 1)  # with product.out_of_stock
    assert client.http.post(f"/api/v1/orders/{let_go}/cancel/",
                            headers=auth).status_code == 200  # order.cancelled
    assert receiver.received == []  # nothing is sent from inside a request

    client.shop.deliver_events()
    client.shop.deliver_events()

    delivered = receiver.delivered()
    assert sorted(set(receiver.types())) == sorted(t.value for t in EventType)
    ids = [r.event["id"] for r in delivered]
    assert len(ids) == len(set(ids)) == 15
    assert all(r.signed_with(secret) and r.headers["Shop-Event-Id"] == r.event["id"]
               for r in delivered)
    assert not any(r.signed_with("whsec_another") for r in delivered)
    per_order: dict[int, list[str]] = {}
    for r in delivered:
        if r.event["type"].startswith("order."):
            per_order.setdefault(r.event["data"]["id"], []).append(r.event["type"])
    sold_out_products = [r.event["data"]["id"] for r in delivered
                         if r.event["type"] == "product.out_of_stock"]
    assert sold_out_products == [lamp, lamp_again]
    assert per_order[sold_out][0] == "order.placed" and "order.paid" in per_order[sold_out]
    assert [t for t in per_order[late]] == ["order.placed", "order.expired",
                                            "order.needs_refund"]
    assert per_order[let_go] == ["order.placed", "order.cancelled"]
    assert per_order[voided] == ["order.placed", "order.paid", "order.voided"]
    refunded = next(r.event for r in delivered if r.event["type"] == "order.refunded")
    assert (refunded["data"]["id"], refunded["data"]["amount"],
            refunded["data"]["refunded_amount"]) == (sold_out, "100.00", "100.00")
    paid = next(r.event for r in delivered
                if r.event["type"] == "order.paid" and r.event["data"]["id"] == sold_out)
    assert (paid["data"]["status"], paid["data"]["total"]) == ("success", "399.98")


def test_a_receiver_answering_500_then_200_gets_it_again_and_both_are_recorded(
        client: Api, receiver: Receiver) -> None:
    subscription, _ = subscribe(client, receiver, ["order.placed"])
    receiver.answers = [500]
    _place(client, client.product())
    client.shop.deliver_events()
    client.shop.deliver_events()  # not due yet: backoff
    assert [r.status for r in receiver.received] == [500]
    advance(client, timedelta(seconds=11))
    client.shop.deliver_events()
    assert [r.status for r in receiver.received] == [500, 200]
    assert receiver.received[0].event["id"] == receiver.received[1].event["id"]
    listed = client.http.get(f"{HOOKS}{subscription}/deliveries/", headers=client.auth("admin"))
    [delivery] = listed.json["results"]
    assert (delivery["status"], delivery["attempts"], delivery["event_type"]) == (
        "delivered", 2, "order.placed")
    assert [(a["status_code"], a["error"]) for a in delivery["attempt_log"]] == [
        (500, "HTTP 500"), (200, None)]
    assert all(a["duration_ms"] >= 0 for a in delivery["attempt_log"])


def test_a_target_failing_for_a_day_is_disabled_shown_to_staff_and_replayed(
        lite: Api, receiver: Receiver) -> None:
    subscription, _ = subscribe(lite, receiver, ["order.placed"])
    admin = lite.auth("admin")
    receiver.answers = [503] * 1000
    _place(lite, lite.product())
    for _ in range(40):
        lite.shop.deliver_events()
        advance(lite, timedelta(hours=1))
    shown = lite.http.get(f"{HOOKS}{subscription}/", headers=admin).json
    assert (shown["disabled"], shown["last_error"]) == (True, "HTTP 503")
    tries = len(receiver.received)
    assert 20 < tries < 40  # backed off up to an hour between tries, for a day
    [delivery] = lite.http.get(f"{HOOKS}{subscription}/deliveries/",
                               headers=admin).json["results"]
    assert delivery["status"] == "failed"

    receiver.answers = []
    replay = lite.http.post(f"{HOOKS}{subscription}/deliveries/{delivery['id']}/replay/",
                            headers=admin)
    assert replay.status_code == 202 and replay.json["status"] == "pending"
    lite.shop.deliver_events()
    assert receiver.received[-1].status == 200
    assert lite.http.get(f"{HOOKS}{subscription}/", headers=admin).json["disabled"] is False
    assert lite.http.post(f"{HOOKS}{subscription}/deliveries/999/replay/",
                          headers=admin).status_code == 404


def test_a_hung_receiver_times_out_and_is_retried(receiver: Receiver) -> None:
    receiver.answers = [Receiver.HANG]
    subscription = Subscription(id=1, url=receiver.url, events=frozenset(EventType),
                                description="", secret="s", created_at=_now())
    event = Event(type=EventType.ORDER_PAID, created_at=_now(), order_id=1, data={})
    started = time.monotonic()
    result = HttpWebhookSender(TargetPolicy(production=False), timeout=0.5).send(
        subscription, event)
    assert time.monotonic() - started < 5
    assert (result.delivered, result.retryable, result.error) == (False, True, "Timed out.")


def test_a_private_target_is_refused_before_delivery_in_production(receiver: Receiver) -> None:
    subscription = Subscription(id=1, url=receiver.url, events=frozenset(EventType),
                                description="", secret="s", created_at=_now())
    event = Event(type=EventType.ORDER_PAID, created_at=_now(), order_id=1, data={})
    result = HttpWebhookSender(TargetPolicy(production=True)).send(subscription, event)
    assert (result.delivered, result.retryable) == (False, False)
    assert result.error is not None and result.error.startswith("Refused")
    assert receiver.received == []


def test_the_paid_email_reaches_the_customer_with_the_lines_and_total(
        make_lite: AppFactory) -> None:
    with smtp_server() as (smtp_url, mailbox):
        api = make_lite(SMTP_URL=smtp_url)
        lamp, mug = api.product("Desk lamp", "199.99"), api.product("Mug", "25.00")
        auth = api.auth("amira")
        placed = api.http.post("/api/v1/orders/", headers=auth, json={"cart_items": [
            {"product_id": lamp, "quantity": 1}, {"product_id": mug, "quantity": 2}]})
        order_id = placed.json["id"]
        pay(api, order_id)
        assert mailbox.messages == []  # never from inside the request
        api.shop.deliver_events()
        api.shop.deliver_events()
        [message] = mailbox.messages
    assert message["To"] == "amira <amira@example.com>"
    assert message["Subject"] == f"Order {order_id}: paid, thank you"
    text = message.get_content()
    assert "1 x Desk lamp at 199.99 = 199.99 EGP" in text
    assert "2 x Mug at 25.00 = 50.00 EGP" in text
    assert "Total: 249.99 EGP" in text


def test_a_refund_email_tells_the_customer_the_amount(make_lite: AppFactory) -> None:
    with smtp_server() as (smtp_url, mailbox):
        api = make_lite(SMTP_URL=smtp_url)
        lamp = api.product("Desk lamp", "199.99")
        placed = api.http.post("/api/v1/orders/", headers=api.auth("amira"), json={
            "cart_items": [{"product_id": lamp, "quantity": 1}]})
        order_id = placed.json["id"]
        pay(api, order_id)
        refunded = api.http.post(f"/api/v1/orders/{order_id}/refunds/", json={
            "amount": "50.00"}, headers={**api.auth("admin"), "Idempotency-Key": "r-1"})
        assert refunded.status_code == 201, refunded.json
        api.shop.deliver_events()
        api.shop.deliver_events()
        paid, refund = mailbox.messages
    assert paid["Subject"] == f"Order {order_id}: paid, thank you"
    assert refund["To"] == "amira <amira@example.com>"
    assert refund["Subject"] == f"Order {order_id}: 50.00 EGP refunded"
    assert "50.00 of 199.99 EGP has gone back in all" in refund.get_content()


def _now() -> datetime:
    return datetime.now(UTC)


def test_an_endless_answer_is_read_only_up_to_a_small_limit() -> None:
    class Endless(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", str(10**9))
            self.end_headers()
            with contextlib.suppress(OSError):  # the shop hangs up
                for _ in range(1000):
                    self.wfile.write(b"x" * 1_000_000)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Endless)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        subscription = Subscription(
            id=1, url=f"http://127.0.0.1:{server.server_address[1]}/", secret="s",
            events=frozenset(EventType), description="", created_at=_now())
        event = Event(type=EventType.ORDER_PAID, created_at=_now(), order_id=1, data={})
        started = time.monotonic()
        result = HttpWebhookSender(TargetPolicy(production=False)).send(subscription, event)
    finally:
        server.shutdown()
        server.server_close()
    assert (result.delivered, result.status_code) == (True, 200)
    assert time.monotonic() - started < 2
