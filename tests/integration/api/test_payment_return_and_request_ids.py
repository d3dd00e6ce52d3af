"""The customer's return page after paying, and the request id every response carries."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from shop_adapters.paymob.callbacks import (
    TRANSACTION_HMAC_FIELDS,
    transaction_hmac,
    transaction_response_hmac,
)
from shop_adapters.paymob.sandbox import build_transaction_callback

from .conftest import Api


def _paid_transaction(api: Api) -> tuple[int, dict[str, Any]]:
    product = api.product(stock=5)
    placed = api.http.post("/api/v1/orders/", headers=api.auth("buyer"), json={
        "cart_items": [{"product_id": product, "quantity": 1}]})
    order_id = int(placed.json["id"])
    with api.shop.uow() as uow:
        order = uow.orders.get(order_id)
    assert order is not None
    body, _ = build_transaction_callback(order, success=True, transaction_id=777,
                                         settings=api.shop.paymob, now=api.shop.clock.now())
    return order_id, body


def _redirect_query(api: Api, obj: dict[str, Any]) -> dict[str, str]:
    """The transaction as Paymob puts it in the customer's redirect: flat text parameters."""
    def text(value: Any) -> str:
        return str(value).lower() if isinstance(value, bool) else str(value)

    def lookup(dotted: str) -> Any:
        value: Any = obj
        for part in dotted.split("."):
            value = value[part]
        return value

    query = {name: text(lookup(name)) for name in TRANSACTION_HMAC_FIELDS if name != "order.id"}
    query["order"] = text(obj["order"]["id"])
    query["merchant_order_id"] = obj["order"]["merchant_order_id"]
    query["hmac"] = transaction_response_hmac(query, api.shop.paymob.hmac_secret)
    return query


def test_return_page_shows_the_outcome_but_never_changes_it(lite: Api) -> None:
    order_id, body = _paid_transaction(lite)
    query = _redirect_query(lite, body["obj"])
    before = lite.http.get("/payment/return/", query_string=query)
    assert before.status_code == 200
    assert b'data-status="pending"' in before.data  # the redirect alone settles nothing
    signature = transaction_hmac(body["obj"], lite.shop.paymob.hmac_secret)
    lite.http.post(f"/webhook/?hmac={signature}", json=body)
    after = lite.http.get("/payment/return/", query_string=query)
    assert b'data-status="success"' in after.data
    assert f"#{order_id}".encode() in after.data


def test_return_page_with_a_forged_signature_reveals_no_order(lite: Api) -> None:
    _, body = _paid_transaction(lite)
    query = {**_redirect_query(lite, body["obj"]), "hmac": "0" * 128}
    page = lite.http.get("/payment/return/", query_string=query)
    assert page.status_code == 200
    assert b"data-status" not in page.data


def test_every_response_carries_a_request_id_and_keeps_a_sane_one_offered(lite: Api) -> None:
    made_up = lite.http.get("/healthz").headers["X-Request-ID"]
    assert len(made_up) == 32
    offered = lite.http.get("/healthz", headers={"X-Request-ID": "edge-42"})
    assert offered.headers["X-Request-ID"] == "edge-42"
    unsafe = "id with spaces] ERROR forged" + "x" * 200
    forged = lite.http.get("/healthz", headers={"X-Request-ID": unsafe})
    assert forged.headers["X-Request-ID"] != unsafe
    assert lite.http.get("/no-such-route").headers["X-Request-ID"]


def test_log_lines_of_a_request_carry_its_id(lite: Api, caplog: pytest.LogCaptureFixture) -> None:
    from shop_web.request_log import RequestIdFilter

    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO):
        lite.http.post("/webhook/?hmac=bad", json={"type": "TRANSACTION", "obj": {}},
                       headers={"X-Request-ID": "req-webhook-1"})
    refused = [record for record in caplog.records if record.name.startswith("shop_web")]
    # The refusal is logged (a wrong HMAC secret would refuse every payment), with the id.
    assert [record.levelno for record in refused] == [logging.WARNING]
    assert "does not match" in refused[0].getMessage()
    assert {getattr(record, "request_id", None) for record in refused} == {"req-webhook-1"}
