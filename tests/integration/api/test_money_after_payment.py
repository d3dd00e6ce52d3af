"""Staff refunding, voiding and capturing through the API, each under a required
Idempotency-Key whose answer is replayed; the order's amounts always equal its ledger's."""

from __future__ import annotations

import copy
import itertools
from datetime import timedelta
from typing import Any

import pytest

from shop_adapters.paymob.callbacks import transaction_hmac
from shop_adapters.paymob.sandbox import build_transaction_callback
from shop_core.ledger import Movement
from shop_core.testing import FakeClock, FakePaymentGateway, FakePaymentOperations
from shop_core.use_cases.ordering import get_order
from tests.integration.api.conftest import Api, Reply

_transactions = itertools.count(70_000_001)


def _paid_order(api: Api, *, stock: int = 5, is_auth: bool = False) -> tuple[int, int]:
    """An order of 2 × 100.00 paid (or only authorized) through the webhook; its id and
    product."""
    product = api.product(price="100.00", stock=stock)
    placed = api.http.post("/api/v1/orders/", headers=api.auth("amira"), json={
        "cart_items": [{"product_id": product, "quantity": 2}]})
    assert placed.status_code == 201, placed.json
    order_id = int(placed.json["id"])
    deliver(api, order_id, is_auth=is_auth)
    return order_id, product


def deliver(api: Api, order_id: int, *, movement: Movement = Movement.PAYMENT,
            amount: int | None = None, transaction_id: int | None = None,
            **changes: Any) -> Reply:
    order = get_order(api.shop.reader(), order_id, user_id=None)
    body, _ = build_transaction_callback(
        order, success=True, transaction_id=transaction_id or next(_transactions),
        settings=api.shop.paymob, now=api.shop.clock.now(), movement=movement,
        amount=amount, parent_transaction_id=None if movement is Movement.PAYMENT else 1)
    body = copy.deepcopy(body)
    body["obj"].update(changes)
    signature = transaction_hmac(body["obj"], api.shop.paymob.hmac_secret)
    reply = api.http.post(f"/webhook/?hmac={signature}", json=body)
    assert reply.status_code == 200, reply.json
    return reply


def staff(api: Api, key: str | None) -> dict[str, str]:
    headers = api.auth("admin")
    return {**headers, "Idempotency-Key": key} if key else headers


def post(api: Api, order_id: int, action: str, key: str | None = "k-1",
         **body: Any) -> Reply:
    return api.http.post(f"/api/v1/orders/{order_id}/{action}/", headers=staff(api, key),
                         json=body)


def order_of(api: Api, order_id: int) -> dict[str, Any]:
    order: dict[str, Any] = api.http.get(f"/api/v1/orders/{order_id}/",
                                         headers=api.auth("admin")).json
    ledger = api.http.get(f"/api/v1/orders/{order_id}/payments/",
                          headers=api.auth("admin")).json
    assert (ledger["paid_amount"], ledger["refunded_amount"]) == (
        order["paid_amount"], order["refunded_amount"])
    return order


def test_partial_refund_then_the_rest_then_nothing_left(client: Api) -> None:
    order_id, product = _paid_order(client)
    first = post(client, order_id, "refunds", "k-1", amount="50.00", reason="dented")
    assert first.status_code == 201, first.json
    assert (first.json["type"], first.json["amount"], first.json["outcome"]) == (
        "refund", "50.00", "succeeded")
    assert first.json["reason"] == "dented" and isinstance(first.json["started_by"], int)
    order = order_of(client, order_id)
    assert (order["status"], order["paid_amount"], order["refunded_amount"]) == (
        "success", "200.00", "50.00")
    rest = post(client, order_id, "refunds", "k-2")
    assert rest.status_code == 201 and rest.json["amount"] == "150.00"
    assert order_of(client, order_id)["status"] == "refunded"
    assert client.stock(product) == 3  # not restocked: the goods went to the customer
    again = post(client, order_id, "refunds", "k-3", amount="0.01")
    assert again.status_code == 409 and set(again.json) == {"detail"}
    ledger = client.http.get(f"/api/v1/orders/{order_id}/payments/",
                             headers=client.auth("admin")).json["entries"]
    assert [(e["type"], e["outcome"], e["started_by"]) for e in ledger] == [
        ("payment", "succeeded", "provider"), ("refund", "succeeded", first.json["started_by"]),
        ("refund", "succeeded", first.json["started_by"])]


def test_over_refund_and_unpaid_orders_are_409_and_change_nothing(
        lite: Api, operations: FakePaymentOperations) -> None:
    order_id, _ = _paid_order(lite)
    over = post(lite, order_id, "refunds", amount="200.01")
    assert over.status_code == 409
    product = lite.product()
    unpaid = lite.http.post("/api/v1/orders/", headers=lite.auth("amira"), json={
        "cart_items": [{"product_id": product, "quantity": 1}]}).json["id"]
    assert post(lite, unpaid, "refunds", "k-2").status_code == 409
    assert operations.calls == []
    assert order_of(lite, order_id)["refunded_amount"] == "0.00"


def test_a_full_refund_with_restock_returns_the_stock(lite: Api) -> None:
    order_id, product = _paid_order(lite)
    assert post(lite, order_id, "refunds", restock=True).status_code == 201
    assert lite.stock(product) == 5
    assert post(lite, order_id, "refunds", "k-2", restock=True).status_code == 409


def test_staff_only_and_the_key_is_required(lite: Api) -> None:
    order_id, _ = _paid_order(lite)
    customer = {**lite.auth("amira"), "Idempotency-Key": "k"}
    for action in ("refunds", "void", "capture"):
        path = f"/api/v1/orders/{order_id}/{action}/"
        assert lite.http.post(path, headers=customer, json={}).status_code == 403
        assert lite.http.post(path, json={}).status_code == 401
        missing = post(lite, order_id, action, key=None)
        assert missing.status_code == 400 and "Idempotency-Key" in missing.json
    assert lite.http.get(f"/api/v1/orders/{order_id}/payments/",
                         headers=customer).status_code == 403
    assert post(lite, 999_999, "refunds").status_code == 404


@pytest.mark.parametrize(("action", "body"), [
    ("refunds", {"amount": "20.00"}), ("void", {}), ("capture", {})])
def test_the_same_key_replays_the_first_answer(lite: Api, operations: FakePaymentOperations,
                                               action: str, body: dict[str, Any]) -> None:
    order_id, _ = _paid_order(lite, is_auth=action == "capture")
    first = post(lite, order_id, action, "same", **body)
    assert first.status_code == 201, first.json
    again = post(lite, order_id, action, "same", **body)
    assert (again.status_code, again.json) == (201, first.json)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(operations.calls) == 1
    other = post(lite, order_id, action, "same", amount="1.00")
    assert other.status_code == 422


def test_a_502_is_replayed_as_502(lite: Api, operations: FakePaymentOperations) -> None:
    order_id, _ = _paid_order(lite)
    operations.answer = "refuse"
    first = post(lite, order_id, "refunds", "k-502", amount="10.00")
    assert first.status_code == 502 and set(first.json) == {"detail"}
    operations.answer = "succeed"
    again = post(lite, order_id, "refunds", "k-502", amount="10.00")
    assert (again.status_code, again.json) == (502, first.json)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert order_of(lite, order_id)["refunded_amount"] == "0.00"
    assert post(lite, order_id, "refunds", "k-new", amount="10.00").status_code == 201


def test_placing_an_order_replays_the_original_answer(lite: Api) -> None:
    product = lite.product(stock=5)
    headers = {**lite.auth("amira"), "Idempotency-Key": "checkout-9"}
    body = {"cart_items": [{"product_id": product, "quantity": 1}]}
    first = lite.http.post("/api/v1/orders/", headers=headers, json=body)
    again = lite.http.post("/api/v1/orders/", headers=headers, json=body)
    assert (again.status_code, again.json) == (201, first.json)
    assert again.headers["Idempotent-Replayed"] == "true" and lite.stock(product) == 4


def test_a_timeout_answers_202_unknown_until_the_callback_settles_it(
        lite: Api, operations: FakePaymentOperations) -> None:
    order_id, _ = _paid_order(lite)
    made: list[Any] = []
    operations.answer, operations.before_answer = "timeout", made.append
    reply = post(lite, order_id, "refunds", amount="120.00")
    assert reply.status_code == 202 and reply.json["outcome"] == "unknown"
    assert post(lite, order_id, "refunds", "k-2", amount="100.00").status_code == 409
    deliver(lite, order_id, movement=Movement.REFUND, amount=12000,
            transaction_id=int(made[0].transaction_id.removeprefix("op-")),
            id=made[0].transaction_id)
    order = order_of(lite, order_id)
    assert (order["status"], order["refunded_amount"]) == ("success", "120.00")
    [_, refund] = lite.http.get(f"/api/v1/orders/{order_id}/payments/",
                                headers=lite.auth("admin")).json["entries"]
    assert refund["outcome"] == "succeeded" and refund["transaction_id"] == \
        made[0].transaction_id


def test_void_returns_the_stock_and_after_settlement_says_to_refund(
        lite: Api, operations: FakePaymentOperations) -> None:
    order_id, product = _paid_order(lite)
    operations.answer = "refuse"
    late = post(lite, order_id, "void", "k-1")
    assert late.status_code == 409 and "refund" in late.json["detail"]
    operations.answer = "succeed"
    voided = post(lite, order_id, "void", "k-2")
    assert voided.status_code == 201 and voided.json["type"] == "void"
    order = order_of(lite, order_id)
    assert (order["status"], order["refunded_amount"]) == ("voided", "200.00")
    assert lite.stock(product) == 5


def test_capture_pays_an_authorized_order(lite: Api) -> None:
    order_id, product = _paid_order(lite, is_auth=True)
    authorized = order_of(lite, order_id)
    assert (authorized["status"], authorized["paid_amount"]) == ("authorized", "0.00")
    assert lite.stock(product) == 3
    assert post(lite, order_id, "capture", "k-0", amount="200.01").status_code == 409
    captured = post(lite, order_id, "capture", "k-1", amount="150.00")
    assert captured.status_code == 201 and captured.json["type"] == "capture"
    order = order_of(lite, order_id)
    assert (order["status"], order["paid_amount"]) == ("success", "150.00")
    assert post(lite, order_id, "capture", "k-2").status_code == 409


def test_staff_list_only_orders_still_owed_a_refund(lite: Api) -> None:
    order_id, _ = _paid_order(lite)
    deliver(lite, order_id)  # paid twice: flagged
    owed = lite.http.get("/api/v1/orders/?needs_refund=true",
                         headers=lite.auth("admin")).json
    assert [o["id"] for o in owed["results"]] == [order_id]
    assert post(lite, order_id, "refunds", amount="200.00").status_code == 201
    owed = lite.http.get("/api/v1/orders/?needs_refund=true",
                         headers=lite.auth("admin")).json
    assert owed["count"] == 0
    order = order_of(lite, order_id)
    assert (order["status"], order["paid_amount"], order["refunded_amount"]) == (
        "success", "400.00", "200.00")


def test_a_placement_that_got_502_replays_502(lite: Api, gateway: FakePaymentGateway) -> None:
    product = lite.product(stock=5)
    headers = {**lite.auth("amira"), "Idempotency-Key": "checkout-502"}
    body = {"cart_items": [{"product_id": product, "quantity": 1}]}
    gateway.fail_next = True
    first = lite.http.post("/api/v1/orders/", headers=headers, json=body)
    assert first.status_code == 502
    again = lite.http.post("/api/v1/orders/", headers=headers, json=body)
    assert (again.status_code, again.json) == (502, first.json)
    assert again.headers["Idempotent-Replayed"] == "true" and lite.stock(product) == 5


def test_keys_are_kept_a_day_then_pruned_by_the_periodic_duty(lite: Api,
                                                              clock: FakeClock) -> None:
    product = lite.product(stock=5)
    headers = {**lite.auth("amira"), "Idempotency-Key": "checkout-old"}
    body = {"cart_items": [{"product_id": product, "quantity": 1}]}
    first = lite.http.post("/api/v1/orders/", headers=headers, json=body)
    [prune] = [d for d in lite.shop.duties if d.name == "shop:idempotency-prune"]
    clock.advance(timedelta(hours=23))
    assert prune.run_once() == 0
    assert lite.http.post("/api/v1/orders/", headers=headers, json=body).json == first.json
    clock.advance(timedelta(hours=1, seconds=1))
    assert prune.run_once() == 1
    fresh = lite.http.post("/api/v1/orders/", headers=headers, json=body)
    assert fresh.status_code == 201 and fresh.json["id"] != first.json["id"]
