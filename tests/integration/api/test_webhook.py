"""Paymob's transaction callbacks through `POST /webhook/`, signed as Paymob signs them."""

from __future__ import annotations

import copy
import logging
from datetime import timedelta
from typing import Any

import pytest

from shop_adapters.paymob.callbacks import transaction_hmac
from shop_adapters.paymob.sandbox import build_transaction_callback
from shop_core.orders import Order

from .conftest import Api

_transactions = iter(range(5_000_001, 6_000_000))


def _order(api: Api, order_id: int) -> Order:
    with api.shop.uow() as uow:
        order = uow.orders.get(order_id)
    assert order is not None
    return order


def _callback(api: Api, order_id: int, *, success: bool = True, transaction_id: int | None = None,
              **changes: Any) -> dict[str, Any]:
    body, _ = build_transaction_callback(
        _order(api, order_id), success=success,
        transaction_id=transaction_id or next(_transactions),
        settings=api.shop.paymob, now=api.shop.clock.now())
    body = copy.deepcopy(body)
    body["obj"].update(changes)
    return body


def _deliver(api: Api, body: dict[str, Any], hmac: str | None = None) -> Any:
    signature = hmac if hmac is not None else transaction_hmac(body["obj"],
                                                               api.shop.paymob.hmac_secret)
    return api.http.post(f"/webhook/?hmac={signature}", json=body)


def _place(api: Api, product: int, quantity: int = 2,
           user: str = "buyer") -> tuple[int, dict[str, str]]:
    auth = api.auth(user)
    placed = api.http.post("/api/v1/orders/", headers=auth, json={
        "cart_items": [{"product_id": product, "quantity": quantity}]})
    assert placed.status_code == 201, placed.json
    return int(placed.json["id"]), auth


def _status(api: Api, order_id: int, auth: dict[str, str]) -> str:
    return str(api.http.get(f"/api/v1/orders/{order_id}/", headers=auth).json["status"])


def test_verified_success_marks_the_order_paid(client: Api) -> None:
    product = client.product(stock=5)
    order_id, auth = _place(client, product)
    reply = _deliver(client, _callback(client, order_id))
    assert reply.status_code == 200
    assert _status(client, order_id, auth) == "success"
    assert client.stock(product) == 3


def test_verified_decline_fails_the_order_and_restores_stock(client: Api) -> None:
    product = client.product(stock=5)
    order_id, auth = _place(client, product)
    assert _deliver(client, _callback(client, order_id, success=False)).status_code == 200
    assert _status(client, order_id, auth) == "failed"
    assert client.stock(product) == 5


def test_same_transaction_three_times_changes_the_order_once(client: Api) -> None:
    product = client.product(stock=5)
    order_id, auth = _place(client, product)
    body = _callback(client, order_id, transaction_id=42)
    replies = [_deliver(client, body) for _ in range(3)]
    assert [r.status_code for r in replies] == [200, 200, 200]
    assert [r.json["outcome"] for r in replies] == ["paid", "duplicate", "duplicate"]
    # A stale replay of the same transaction id with other content changes nothing either.
    stale = _callback(client, order_id, transaction_id=42, success=False)
    assert _deliver(client, stale).json["outcome"] == "duplicate"
    assert _status(client, order_id, auth) == "success"
    assert client.stock(product) == 3


def test_failure_after_success_changes_nothing(lite: Api) -> None:
    product = lite.product(stock=5)
    order_id, auth = _place(lite, product)
    _deliver(lite, _callback(lite, order_id))
    assert _deliver(lite, _callback(lite, order_id, success=False)).status_code == 200
    assert _status(lite, order_id, auth) == "success"
    assert lite.stock(product) == 3


@pytest.mark.parametrize(("flags", "status", "stock"), [
    ({"is_refunded": True}, "refunded", 3), ({"is_voided": True}, "voided", 5),
    ({"has_parent_transaction": True, "is_refund": True}, "refunded", 3),
])
def test_refund_or_void_made_at_paymob_is_recorded_and_reflected_on_the_order(
        lite: Api, flags: dict[str, bool], status: str, stock: int) -> None:
    product = lite.product(stock=5)
    order_id, auth = _place(lite, product)
    _deliver(lite, _callback(lite, order_id))
    reply = _deliver(lite, _callback(lite, order_id, **flags))
    assert reply.json["outcome"] == "reversal_recorded"
    assert _status(lite, order_id, auth) == status
    assert lite.stock(product) == stock


def test_a_partial_refund_made_at_paymob_keeps_the_order_paid(lite: Api) -> None:
    product = lite.product(stock=5)
    order_id, auth = _place(lite, product)
    _deliver(lite, _callback(lite, order_id))
    _deliver(lite, _callback(lite, order_id, amount_cents=5000, is_refund=True,
                             has_parent_transaction=True))
    order = lite.http.get(f"/api/v1/orders/{order_id}/", headers=auth).json
    assert (order["status"], order["paid_amount"], order["refunded_amount"]) == (
        "success", "399.98", "50.00")


def test_pending_transaction_changes_nothing(lite: Api) -> None:
    product = lite.product(stock=5)
    order_id, auth = _place(lite, product)
    reply = _deliver(lite, _callback(lite, order_id, success=False, pending=True))
    assert reply.json["outcome"] == "still_pending"
    assert _status(lite, order_id, auth) == "pending"
    assert lite.stock(product) == 3


def test_amount_mismatch_is_recorded_and_rejected(lite: Api,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    product = lite.product(stock=5)
    order_id, auth = _place(lite, product)
    with caplog.at_level(logging.WARNING):
        reply = _deliver(lite, _callback(lite, order_id, amount_cents=100))
    assert reply.status_code == 200 and reply.json["outcome"] == "amount_mismatch"
    assert _status(lite, order_id, auth) == "pending"
    assert "amount_mismatch" in caplog.text
    with lite.shop.uow() as uow:
        entries = uow.payment_events.list_for_order(order_id)
    assert [e.outcome and e.outcome.value for e in entries] == ["amount_mismatch"]


def test_unknown_order_is_answered_200_and_logged(lite: Api,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    product = lite.product(stock=5)
    order_id, _ = _place(lite, product)
    body = _callback(lite, order_id)
    body["obj"]["order"] = {**body["obj"]["order"], "id": 123456789,
                            "merchant_order_id": "shop-999999"}
    with caplog.at_level(logging.WARNING):
        reply = _deliver(lite, body)
    assert reply.status_code == 200 and reply.json["outcome"] == "unknown_order"
    assert "unknown_order" in caplog.text


def test_late_success_after_timeout_takes_the_stock_again(lite: Api) -> None:
    product = lite.product(stock=5)
    order_id, auth = _place(lite, product)
    _expire(lite)
    assert _status(lite, order_id, auth) == "timeout" and lite.stock(product) == 5
    assert _deliver(lite, _callback(lite, order_id)).json["outcome"] == "late_paid"
    assert _status(lite, order_id, auth) == "success"
    assert lite.stock(product) == 3


def test_late_success_without_stock_flags_the_order_for_a_refund(lite: Api) -> None:
    product = lite.product(stock=2)
    order_id, auth = _place(lite, product)
    _expire(lite)
    _place(lite, product, user="faster")  # the freed stock is sold to someone else
    assert _deliver(lite, _callback(lite, order_id)).json["outcome"] == "needs_refund"
    order = lite.http.get(f"/api/v1/orders/{order_id}/", headers=auth).json
    assert order["status"] == "timeout" and order["needs_refund"] is True
    assert lite.stock(product) == 0
    flagged = lite.http.get("/api/v1/orders/?needs_refund=true", headers=lite.auth("admin"))
    assert [o["id"] for o in flagged.json["results"]] == [order_id]


def test_forged_or_missing_signature_is_401_and_changes_nothing(client: Api) -> None:
    product = client.product(stock=5)
    order_id, auth = _place(client, product)
    body = _callback(client, order_id)
    forged = transaction_hmac(body["obj"], "not-the-shop-secret")
    assert _deliver(client, body, hmac=forged).status_code == 401
    missing = client.http.post("/webhook/", json=body)
    assert missing.status_code == 401 and "detail" in missing.json
    tampered = copy.deepcopy(body)
    signature = transaction_hmac(body["obj"], client.shop.paymob.hmac_secret)
    tampered["obj"]["success"] = False
    assert _deliver(client, tampered, hmac=signature).status_code == 401
    assert _status(client, order_id, auth) == "pending"
    assert client.stock(product) == 3


def test_malformed_callback_body_is_400(lite: Api) -> None:
    reply = lite.http.post("/webhook/?hmac=abc", data="{not json",
                           content_type="application/json")
    assert reply.status_code == 400 and "detail" in reply.json


def _expire(api: Api) -> None:
    from shop_core.use_cases.expiry import expire_overdue_orders

    api.shop.clock.advance(timedelta(minutes=11))  # type: ignore[attr-defined]
    assert expire_overdue_orders(api.shop.uow(), api.shop.clock) >= 1
