"""Paymob's markets through the API: each currency's decimal places, the customer's phone,
and payment windows per method."""

from __future__ import annotations

from tests.integration.api.conftest import AppFactory


def test_a_three_decimal_price_is_taken_in_omani_rials(make_lite: AppFactory) -> None:
    api = make_lite(PAYMOB_CURRENCY="OMR")
    created = api.http.post("/api/v1/products/", headers=api.auth("admin"), json={
        "name": "Frankincense", "price": "12.345", "stock": 3})
    assert created.status_code == 201, created.json
    assert created.json["price"] == "12.345"
    whole = api.http.patch(f"/api/v1/products/{created.json['id']}/",
                           headers=api.auth("admin"), json={"price": "12.5"})
    assert whole.json["price"] == "12.500"


def test_a_three_decimal_price_is_refused_in_egyptian_pounds(make_lite: AppFactory) -> None:
    api = make_lite(PAYMOB_CURRENCY="EGP")
    refused = api.http.post("/api/v1/products/", headers=api.auth("admin"), json={
        "name": "Lantern", "price": "12.345", "stock": 3})
    assert refused.status_code == 400
    assert refused.json == {"price": ["Ensure that there are no more than 2 decimal places."]}
    listing = api.http.get("/api/v1/products/")
    assert listing.json["count"] == 0


def test_an_omani_order_shows_its_amounts_with_three_places(make_lite: AppFactory) -> None:
    api = make_lite(PAYMOB_CURRENCY="OMR")
    product = api.http.post("/api/v1/products/", headers=api.auth("admin"), json={
        "name": "Frankincense", "price": "1.255", "stock": 3}).json["id"]
    order = api.http.post("/api/v1/orders/", headers=api.auth("amira"), json={
        "cart_items": [{"product_id": product, "quantity": 2}]})
    assert order.status_code == 201, order.json
    assert (order.json["total"], order.json["currency"]) == ("2.510", "OMR")
    assert order.json["items"][0]["unit_price"] == "1.255"
