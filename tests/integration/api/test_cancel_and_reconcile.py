"""Cancelling through the API, a kiosk's pending callback, and reconciliation as the shop
runs it (its periodic duty, and expiry giving it its chance)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shop_adapters.paymob.callbacks import read_transaction
from shop_core.orders import OrderStatus
from shop_core.payments import PaymentCallback
from shop_core.testing import FakeClock, FakePaymentGateway

from .conftest import Api
from .test_webhook import _callback, _deliver, _order, _place


def test_owner_cancels_a_pending_order_and_its_stock_returns_at_once(client: Api) -> None:
    product = client.product(stock=5)
    order_id, auth = _place(client, product, 2)

    reply = client.http.post(f"/api/v1/orders/{order_id}/cancel/", headers=auth)

    assert reply.status_code == 200, reply.json
    assert reply.json["status"] == "cancelled" and "user_id" not in reply.json
    assert client.stock(product) == 5
    listed = client.http.get("/api/v1/orders/?status=cancelled", headers=auth).json
    assert [o["id"] for o in listed["results"]] == [order_id]


def test_someone_elses_order_is_404_and_staff_may_cancel_it(client: Api) -> None:
    product = client.product(stock=5)
    order_id, _ = _place(client, product, 2)
    other = client.auth("mallory")
    reply = client.http.post(f"/api/v1/orders/{order_id}/cancel/", headers=other)
    assert reply.status_code == 404 and reply.json == {"detail": "Order not found."}
    assert client.stock(product) == 3
    staff = client.http.post(f"/api/v1/orders/{order_id}/cancel/",
                             headers=client.auth("admin"))
    assert staff.status_code == 200 and staff.json["user_id"]


def test_cancel_needs_a_token_and_an_order_that_exists(lite: Api) -> None:
    assert lite.http.post("/api/v1/orders/1/cancel/").status_code == 401
    auth = lite.auth("buyer")
    assert lite.http.post("/api/v1/orders/999/cancel/", headers=auth).status_code == 404
    assert lite.http.get("/api/v1/orders/1/cancel/", headers=auth).status_code == 405


def test_an_order_no_longer_pending_is_409_and_nothing_changes(lite: Api) -> None:
    product = lite.product(stock=5)
    order_id, auth = _place(lite, product, 2)
    _deliver(lite, _callback(lite, order_id))
    reply = lite.http.post(f"/api/v1/orders/{order_id}/cancel/", headers=auth)
    assert reply.status_code == 409 and "success" in reply.json["detail"]
    assert lite.stock(product) == 3
    assert lite.http.post(f"/api/v1/orders/{order_id}/cancel/",
                          headers=auth).status_code == 409


def test_a_retried_cancel_with_its_key_replays_and_another_request_is_422(lite: Api) -> None:
    product = lite.product(stock=5)
    order_id, auth = _place(lite, product, 2)
    other_id, _ = _place(lite, product, 1)
    headers = {**auth, "Idempotency-Key": "cancel-1"}
    first = lite.http.post(f"/api/v1/orders/{order_id}/cancel/", headers=headers)
    again = lite.http.post(f"/api/v1/orders/{order_id}/cancel/", headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json["status"] == "cancelled" and lite.stock(product) == 4
    assert lite.http.post(f"/api/v1/orders/{other_id}/cancel/",
                          headers=headers).status_code == 422
    bad = {**auth, "Idempotency-Key": "\x01"}
    assert lite.http.post(f"/api/v1/orders/{other_id}/cancel/", headers=bad).status_code == 400
    assert lite.stock(product) == 4


def test_a_payment_arriving_after_the_cancel_takes_the_stock_again(lite: Api) -> None:
    product = lite.product(stock=5)
    order_id, auth = _place(lite, product, 2)
    lite.http.post(f"/api/v1/orders/{order_id}/cancel/", headers=auth)
    reply = _deliver(lite, _callback(lite, order_id))
    assert reply.json["outcome"] == "late_paid"
    order = lite.http.get(f"/api/v1/orders/{order_id}/", headers=auth).json
    assert order["status"] == "success" and lite.stock(product) == 3


def test_the_openapi_document_describes_cancel(lite: Api) -> None:
    document = lite.http.get("/api/v1/openapi.json").json
    operation = document["paths"]["/api/v1/orders/{order_id}/cancel/"]["post"]
    assert operation["operationId"] == "cancelOrder"
    assert {"200", "401", "404", "409", "422"} <= set(operation["responses"])
    order = document["components"]["schemas"]["Order"]["properties"]
    assert "cancelled" in order["status"]["enum"]
    assert {"payment_state", "payment_reference"} <= set(order)


def test_a_kiosk_pending_callback_shows_the_bill_reference_and_keeps_the_order_pending(
        client: Api) -> None:
    product = client.product(stock=5)
    order_id, auth = _place(client, product, 2)
    body = _callback(client, order_id, success=False, pending=True,
                     source_data={"type": "aggregator", "pan": None, "sub_type": "AGGREGATOR"})
    body["obj"]["data"]["bill_reference"] = 7412589
    assert _deliver(client, body).json["outcome"] == "still_pending"

    order = client.http.get(f"/api/v1/orders/{order_id}/", headers=auth).json
    assert order["status"] == "pending"
    assert order["payment_state"] == "awaiting_kiosk_payment"
    assert order["payment_reference"] == "7412589"
    assert client.stock(product) == 3

    paid = _callback(client, order_id, transaction_id=body["obj"]["id"])
    assert _deliver(client, paid).json["outcome"] == "paid"  # same id, the final outcome
    order = client.http.get(f"/api/v1/orders/{order_id}/", headers=auth).json
    assert (order["status"], order["payment_state"]) == ("success", None)


def test_a_paid_order_whose_callback_was_lost_ends_success_at_its_deadline(
        client: Api, clock: FakeClock, gateway: FakePaymentGateway) -> None:
    product = client.product(stock=5)
    order_id, auth = _place(client, product, 2)
    body = _callback(client, order_id)
    gateway.payments[order_id] = _read(client, body)
    clock.advance(timedelta(minutes=10))

    client.shop.expire_overdue_orders()

    assert client.http.get(f"/api/v1/orders/{order_id}/", headers=auth).json["status"] \
        == "success"
    assert _deliver(client, body).json["outcome"] == "duplicate"
    assert client.stock(product) == 3


def test_the_periodic_duty_reconciles_recent_cancellations(
        lite: Api, gateway: FakePaymentGateway) -> None:
    product = lite.product(stock=5)
    order_id, auth = _place(lite, product, 2)
    lite.http.post(f"/api/v1/orders/{order_id}/cancel/", headers=auth)
    gateway.payments[order_id] = _read(lite, _callback(lite, order_id))
    [duty] = [d for d in lite.shop.duties if d.name == "shop:reconciliation"]

    assert duty.run_once() == 1
    assert _order(lite, order_id).status is OrderStatus.SUCCESS
    assert lite.stock(product) == 3
    assert duty.run_once() == 0


def _read(api: Api, body: dict[str, Any]) -> PaymentCallback:
    """What Paymob's transaction inquiry would report of the callback `body`."""
    return read_transaction(body["obj"], api.shop.paymob.reference_prefix)
