"""Orders: the contract's third table and the placing rules under it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from shop_core.orders import OrderStatus
from shop_core.testing import FakeClock, FakePaymentGateway
from tests.integration.api.conftest import Api, Reply

ORDER_FIELDS = {"id", "status", "total", "currency", "items", "payment_url", "expires_at",
                "needs_refund", "payment_state", "payment_reference", "payment_method",
                "created_at", "updated_at"}
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$")


def place(api: Api, headers: dict[str, str], *lines: tuple[int, int],
          key: str | None = None) -> Reply:
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    return api.http.post("/api/v1/orders/", headers=headers, json={
        "cart_items": [{"product_id": pid, "quantity": qty} for pid, qty in lines]})


def test_placing_an_order_reserves_stock_and_opens_a_payment(client: Api,
                                                             clock: FakeClock) -> None:
    lamp = client.product(name="Lamp", price="199.99", stock=5)
    chair = client.product(name="Chair", price="0.50", stock=2)
    response = place(client, client.auth("amira"), (lamp, 1), (chair, 1), (lamp, 1))
    assert response.status_code == 201, response.json
    order = response.json
    assert set(order) == ORDER_FIELDS
    assert order["status"] == "pending" and order["needs_refund"] is False
    assert order["payment_method"] is None
    assert order["total"] == "400.48" and order["currency"] == "EGP"
    assert order["items"] == [
        {"product_id": lamp, "name": "Lamp", "unit_price": "199.99", "quantity": 2,
         "line_total": "399.98"},
        {"product_id": chair, "name": "Chair", "unit_price": "0.50", "quantity": 1,
         "line_total": "0.50"},
    ]
    assert order["payment_url"].startswith("https://checkout.example/")
    assert ISO_UTC.match(order["expires_at"]) and ISO_UTC.match(order["created_at"])
    expires = datetime.fromisoformat(order["expires_at"])
    assert expires - datetime.fromisoformat(order["created_at"]) == timedelta(minutes=10)
    assert (client.stock(lamp), client.stock(chair)) == (3, 1)


def test_not_enough_stock_is_409_and_changes_nothing(client: Api) -> None:
    lamp = client.product(stock=1)
    chair = client.product(name="Chair", stock=3)
    response = place(client, client.auth("amira"), (lamp, 2), (chair, 1))
    assert response.status_code == 409
    assert response.json == {"detail": "Not enough stock for some items.",
                             "unavailable": [{"product_id": lamp, "requested": 2,
                                              "available": 1}]}
    assert (client.stock(lamp), client.stock(chair)) == (1, 3)


def test_unknown_or_deleted_products_are_400_naming_them(client: Api) -> None:
    gone = client.product()
    admin = client.auth("admin")
    client.http.delete(f"/api/v1/products/{gone}/", headers=admin)
    for product_id in (gone, 424242):
        response = place(client, client.auth("amira"), (product_id, 1))
        assert response.status_code == 400
        assert str(product_id) in response.json["cart_items"][0]


@pytest.mark.parametrize(("body", "expected"), [
    ({"cart_items": []}, {"cart_items"}),
    ({}, {"cart_items"}),
    ({"cart_items": "lamp"}, {"cart_items"}),
])
def test_cart_must_hold_one_to_a_hundred_lines(lite: Api, body: dict[str, object],
                                               expected: set[str]) -> None:
    response = lite.http.post("/api/v1/orders/", headers=lite.auth("amira"), json=body)
    assert response.status_code == 400 and set(response.json) == expected


def test_more_than_a_hundred_lines_is_400(lite: Api) -> None:
    lamp = lite.product()
    response = place(lite, lite.auth("amira"), *[(lamp, 1)] * 101)
    assert response.status_code == 400 and "cart_items" in response.json


def test_line_errors_are_nested_by_index(lite: Api) -> None:
    lamp = lite.product()
    response = lite.http.post("/api/v1/orders/", headers=lite.auth("amira"), json={
        "cart_items": [{"product_id": lamp, "quantity": 1},
                       {"product_id": lamp, "quantity": 0},
                       {"product_id": "1", "quantity": 1.5}, 7]})
    assert response.status_code == 400
    errors = response.json["cart_items"]
    assert set(errors) == {"1", "2", "3"}
    assert set(errors["1"]) == {"quantity"}
    assert set(errors["2"]) == {"product_id", "quantity"}
    assert "non_field_errors" in errors["3"]
    assert lite.stock(lamp) == 10


def test_provider_failure_is_502_and_gives_the_stock_back(client: Api,
                                                          gateway: FakePaymentGateway) -> None:
    lamp = client.product(stock=2)
    headers = client.auth("amira")
    gateway.fail_next = True
    response = place(client, headers, (lamp, 2))
    assert response.status_code == 502 and set(response.json) == {"detail"}
    assert client.stock(lamp) == 2
    orders = client.http.get("/api/v1/orders/", headers=headers).json["results"]
    assert [order["status"] for order in orders] == ["failed"]


def test_idempotency_key_replays_the_order_and_refuses_another_body(client: Api) -> None:
    lamp = client.product(stock=5)
    headers = client.auth("amira")
    first = place(client, headers, (lamp, 2), key="checkout-1")
    again = place(client, headers, (lamp, 2), key="checkout-1")
    assert first.status_code == again.status_code == 201
    assert again.json["id"] == first.json["id"] and client.stock(lamp) == 3
    other = place(client, headers, (lamp, 1), key="checkout-1")
    assert other.status_code == 422 and set(other.json) == {"detail"}
    assert client.stock(lamp) == 3
    # Keys belong to their user: another customer's same key is a new order.
    assert place(client, client.auth("bob"), (lamp, 1), key="checkout-1").json["id"] != \
        first.json["id"]


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9"])
def test_a_malformed_idempotency_key_is_400(lite: Api, key: str) -> None:
    lamp = lite.product()
    headers = {**lite.auth("amira"), "Idempotency-Key": key}
    response = lite.http.post("/api/v1/orders/", headers=headers,
                              json={"cart_items": [{"product_id": lamp, "quantity": 1}]})
    assert response.status_code == 400 and "Idempotency-Key" in response.json
    assert lite.stock(lamp) == 10


def test_customers_see_their_own_orders_newest_first(client: Api, clock: FakeClock) -> None:
    lamp = client.product(stock=10)
    amira, bob = client.auth("amira"), client.auth("bob")
    first = place(client, amira, (lamp, 1)).json
    clock.advance(timedelta(seconds=1))
    second = place(client, amira, (lamp, 1)).json
    theirs = place(client, bob, (lamp, 1)).json

    listed = client.http.get("/api/v1/orders/", headers=amira)
    assert listed.status_code == 200
    assert [o["id"] for o in listed.json["results"]] == [second["id"], first["id"]]
    assert listed.json["count"] == 2 and "user_id" not in listed.json["results"][0]

    assert client.http.get(f"/api/v1/orders/{first['id']}/", headers=amira).json == first
    foreign = client.http.get(f"/api/v1/orders/{theirs['id']}/", headers=amira)
    assert foreign.status_code == 404 and set(foreign.json) == {"detail"}
    assert client.http.get("/api/v1/orders/999/", headers=amira).status_code == 404


def test_orders_filter_by_status(client: Api, gateway: FakePaymentGateway) -> None:
    lamp = client.product(stock=10)
    headers = client.auth("amira")
    place(client, headers, (lamp, 1))
    gateway.fail_next = True
    place(client, headers, (lamp, 1))
    for status in ("pending", "failed"):
        results = client.http.get(f"/api/v1/orders/?status={status}",
                                  headers=headers).json["results"]
        assert [o["status"] for o in results] == [status]
    assert client.http.get("/api/v1/orders/?status=paid", headers=headers).status_code == 400


def test_staff_see_every_order_with_its_user(client: Api) -> None:
    lamp = client.product(stock=10)
    amira = client.register("amira")
    client.register("bob")
    mine = place(client, client.auth("amira"), (lamp, 1)).json
    place(client, client.auth("bob"), (lamp, 1))
    with client.shop.uow() as uow:  # a late payment the shop could not honour
        order = uow.orders.get(mine["id"])
        assert order is not None
        order.flag_for_refund(client.shop.clock.now())
        uow.orders.update(order, expected_status=OrderStatus.PENDING)
        uow.commit()

    admin = client.auth("admin")
    everyone = client.http.get("/api/v1/orders/", headers=admin).json
    assert everyone["count"] == 2 and all("user_id" in o for o in everyone["results"])
    one = client.http.get(f"/api/v1/orders/?user_id={amira['id']}", headers=admin).json
    assert [o["id"] for o in one["results"]] == [mine["id"]]
    refunds = client.http.get("/api/v1/orders/?needs_refund=true", headers=admin).json
    assert [o["id"] for o in refunds["results"]] == [mine["id"]]
    read = client.http.get(f"/api/v1/orders/{mine['id']}/", headers=admin).json
    assert read["user_id"] == amira["id"] and read["needs_refund"] is True
    # A customer's staff-only filters are ignored: still only their own orders.
    bob_view = client.http.get(f"/api/v1/orders/?user_id={amira['id']}",
                               headers=client.auth("bob")).json
    assert bob_view["count"] == 1 and bob_view["results"][0]["id"] != mine["id"]


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/v1/orders/"), ("get", "/api/v1/orders/1/"), ("post", "/api/v1/orders/")])
def test_orders_need_a_token(lite: Api, method: str, path: str) -> None:
    response = getattr(lite.http, method)(path, json={"cart_items": []})
    assert response.status_code == 401 and set(response.json) == {"detail"}
