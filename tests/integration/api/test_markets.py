"""Paymob's markets through the API: each currency's decimal places, the customer's phone,
and payment windows per method."""

from __future__ import annotations

import pytest

from tests.integration.api.conftest import Api, AppFactory


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


def test_a_customer_adds_changes_and_removes_a_phone_number(client: Api) -> None:
    headers = client.auth("amira")
    added = client.http.patch("/api/v1/profile/", headers=headers,
                              json={"phone_number": "+20 100 123-4567"})
    assert added.status_code == 200, added.json
    assert added.json["phone_number"] == "+201001234567"
    assert client.http.get("/api/v1/profile/", headers=headers).json["phone_number"] == (
        "+201001234567")
    kept = client.http.put("/api/v1/profile/", headers=headers, json={
        "email": "amira@example.com", "first_name": "Amira", "last_name": "Fathy"})
    assert kept.json["phone_number"] == "+201001234567"
    removed = client.http.patch("/api/v1/profile/", headers=headers,
                                json={"phone_number": None})
    assert removed.json["phone_number"] is None


@pytest.mark.parametrize("phone", ["01001234567", "+0201001234567", "+20abc1234567",
                                   "+2010012345678901", "+12345", "٠١٠٠١٢٣٤٥٦٧"])
def test_a_phone_number_that_is_not_e164_is_refused(lite: Api, phone: str) -> None:
    headers = lite.auth("amira")
    refused = lite.http.patch("/api/v1/profile/", headers=headers,
                              json={"phone_number": phone, "first_name": "Changed"})
    assert refused.status_code == 400
    assert refused.json == {"phone_number": [
        "Enter the phone number in international format, such as +201001234567."]}
    profile = lite.http.get("/api/v1/profile/", headers=headers).json
    assert (profile["phone_number"], profile["first_name"]) == (None, "")


def test_registration_takes_an_optional_phone_number(lite: Api) -> None:
    body = lite.register("omar", phone_number="+968 9123 4567")
    assert body["phone_number"] == "+96891234567"
