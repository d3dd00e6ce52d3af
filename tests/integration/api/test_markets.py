"""Paymob's markets through the API: each currency's decimal places, the customer's phone,
and payment windows per method."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from shop_core.testing import FakeClock, FakePaymentGateway
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


METHODS = {"PAYMOB_INTEGRATIONS": "4900001:card:10m,4900002:wallet,4900003:kiosk:48h"}


def order_body(product: int, **extra: object) -> dict[str, object]:
    return {"cart_items": [{"product_id": product, "quantity": 2}], **extra}


def test_a_card_order_holds_its_stock_ten_minutes_and_a_kiosk_order_two_days(
        make_lite: AppFactory, clock: FakeClock, gateway: FakePaymentGateway) -> None:
    api = make_lite(**METHODS)
    lamp = api.product(stock=10)
    headers = api.auth("amira")
    card = api.http.post("/api/v1/orders/", headers=headers,
                         json=order_body(lamp, payment_method="card")).json
    kiosk = api.http.post("/api/v1/orders/", headers=headers,
                          json=order_body(lamp, payment_method="kiosk")).json
    now = clock.now()
    assert (card["payment_method"], kiosk["payment_method"]) == ("card", "kiosk")
    assert datetime.fromisoformat(card["expires_at"]) == now + timedelta(minutes=10)
    assert datetime.fromisoformat(kiosk["expires_at"]) == now + timedelta(hours=48)
    assert gateway.offers[card["id"]] == (("card",), now + timedelta(minutes=10))
    assert gateway.offers[kiosk["id"]] == (("kiosk",), now + timedelta(hours=48))

    clock.advance(timedelta(minutes=10))
    assert api.shop.expire_overdue_orders() == 1
    assert status(api, headers, card["id"]) == "timeout"
    assert status(api, headers, kiosk["id"]) == "pending" and api.stock(lamp) == 8
    clock.advance(timedelta(hours=48))
    assert api.shop.expire_overdue_orders() == 1
    assert status(api, headers, kiosk["id"]) == "timeout" and api.stock(lamp) == 10


def status(api: Api, headers: dict[str, str], order_id: int) -> str:
    return str(api.http.get(f"/api/v1/orders/{order_id}/", headers=headers).json["status"])


def test_without_a_method_the_order_offers_the_default_window_s_methods(
        make_lite: AppFactory, clock: FakeClock, gateway: FakePaymentGateway) -> None:
    api = make_lite(**METHODS)
    lamp = api.product(stock=10)
    headers = api.auth("amira")
    api.http.patch("/api/v1/profile/", headers=headers, json={"phone_number": "+201001234567"})
    order = api.http.post("/api/v1/orders/", headers=headers, json=order_body(lamp)).json
    assert order["payment_method"] is None
    assert gateway.offers[order["id"]] == (("card", "wallet"), clock.now() + timedelta(minutes=10))


def test_an_unknown_payment_method_is_400_naming_the_field_and_takes_nothing(
        make_lite: AppFactory) -> None:
    api = make_lite(**METHODS)
    lamp = api.product(stock=10)
    refused = api.http.post("/api/v1/orders/", headers=api.auth("amira"),
                            json=order_body(lamp, payment_method="cheque"))
    assert refused.status_code == 400
    assert refused.json == {"payment_method": [
        "Choose one of the payment methods the shop takes: card, wallet, kiosk."]}
    assert api.stock(lamp) == 10


def test_a_wallet_payment_without_a_phone_is_400_and_takes_nothing(
        make_lite: AppFactory, gateway: FakePaymentGateway) -> None:
    api = make_lite(**METHODS)
    lamp = api.product(stock=10)
    headers = api.auth("amira")
    refused = api.http.post("/api/v1/orders/", headers=headers,
                            json=order_body(lamp, payment_method="wallet"))
    assert refused.status_code == 400
    assert refused.json == {"phone_number": [
        "Paying by wallet needs your phone number: add it to your profile first."]}
    assert api.stock(lamp) == 10 and gateway.intentions == {}
    assert api.http.get("/api/v1/orders/", headers=headers).json["count"] == 0

    api.http.patch("/api/v1/profile/", headers=headers, json={"phone_number": "+201001234567"})
    paid = api.http.post("/api/v1/orders/", headers=headers,
                         json=order_body(lamp, payment_method="wallet"))
    assert paid.status_code == 201 and api.stock(lamp) == 8


def test_a_customer_without_a_phone_is_offered_the_card_but_not_the_wallet(
        make_lite: AppFactory, gateway: FakePaymentGateway) -> None:
    api = make_lite(**METHODS)
    lamp = api.product(stock=10)
    order = api.http.post("/api/v1/orders/", headers=api.auth("amira"),
                          json=order_body(lamp)).json
    assert gateway.offers[order["id"]][0] == ("card",)


def test_a_wallet_only_shop_needs_the_customer_s_phone(make_lite: AppFactory) -> None:
    api = make_lite(PAYMOB_INTEGRATIONS="4900002:wallet")
    lamp = api.product(stock=10)
    refused = api.http.post("/api/v1/orders/", headers=api.auth("amira"),
                            json=order_body(lamp))
    assert refused.status_code == 400 and set(refused.json) == {"phone_number"}
    assert api.stock(lamp) == 10


def test_the_same_idempotency_key_with_another_method_is_422(make_lite: AppFactory) -> None:
    api = make_lite(**METHODS)
    lamp = api.product(stock=10)
    headers = {**api.auth("amira"), "Idempotency-Key": "order-7"}
    first = api.http.post("/api/v1/orders/", headers=headers,
                          json=order_body(lamp, payment_method="card"))
    again = api.http.post("/api/v1/orders/", headers=headers,
                          json=order_body(lamp, payment_method="card"))
    other = api.http.post("/api/v1/orders/", headers=headers,
                          json=order_body(lamp, payment_method="kiosk"))
    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 422)
    assert again.json["id"] == first.json["id"] and api.stock(lamp) == 8


def test_a_shop_without_configured_methods_takes_cards_for_ten_minutes(
        lite: Api, clock: FakeClock, gateway: FakePaymentGateway) -> None:
    lamp = lite.product(stock=10)
    headers = lite.auth("amira")
    order = lite.http.post("/api/v1/orders/", headers=headers,
                           json=order_body(lamp, payment_method="card")).json
    assert gateway.offers[order["id"]] == (("card",), clock.now() + timedelta(minutes=10))
    refused = lite.http.post("/api/v1/orders/", headers=headers,
                             json=order_body(lamp, payment_method="kiosk"))
    assert refused.json == {"payment_method": [
        "Choose one of the payment methods the shop takes: card."]}
