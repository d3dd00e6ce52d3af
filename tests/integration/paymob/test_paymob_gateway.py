"""The live gateway against a real HTTP server on 127.0.0.1 standing in for Paymob."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from attrs import evolve

from shop_adapters.paymob.gateway import PaymobGateway
from shop_adapters.paymob.references import client_secret
from shop_adapters.paymob.settings import Integration
from shop_core.accounts import User
from shop_core.errors import PaymentProviderError
from shop_core.money import Money
from shop_core.orders import CartLine, Order, OrderQuery, OrderStatus, new_order, order_lines
from shop_core.payment_methods import PaymentMethod, PaymentMethods
from shop_core.use_cases.ordering import PlaceOrder, place_order

from .conftest import HMAC_SECRET, PUBLIC_KEY, SECRET_KEY, ShopWorld, StubServer, make_settings

CREATED = {
    "id": "pi_test_7c0e2f1a9b8d4c3e",
    "client_secret": "egy_csk_test_a1b2+c3/d4=",
    "intention_order_id": 217503754,
    "status": "intended",
}


def gateway_for(world: ShopWorld, api_base: str, **changes: object) -> PaymobGateway:
    return PaymobGateway(make_settings(api_base, **changes), world.clock)


def place(world: ShopWorld, gateway: PaymobGateway) -> Order:
    return place_order(world.uow, world.services(gateway), world.cart())


def test_intention_request_has_paymob_shape(world: ShopWorld, stub_server: StubServer) -> None:
    stub_server.reply_json(201, CREATED)

    order = place(world, gateway_for(world, stub_server.url))

    [sent] = stub_server.requests
    assert sent.path == "/v1/intention/"
    assert sent.headers["Authorization"] == f"Token {SECRET_KEY}"
    assert sent.headers["Content-Type"] == "application/json"
    body = sent.json()
    assert body["amount"] == 22499 and type(body["amount"]) is int
    assert body["currency"] == "EGP"
    assert body["payment_methods"] == [4097558, 4097559]
    assert all(type(i) is int for i in body["payment_methods"])
    assert body["items"] == [
        {"name": "Fountain pen", "amount": 1250, "description": "Fountain pen", "quantity": 2},
        {"name": "Notebook", "amount": 19999, "description": "Notebook", "quantity": 1},
    ]
    assert all(type(item["amount"]) is int and type(item["quantity"]) is int
               for item in body["items"])
    assert sum(item["amount"] * item["quantity"] for item in body["items"]) == body["amount"]
    assert body["special_reference"] == f"shop-{order.id}"
    assert body["expiration"] == 600
    assert body["notification_url"] == "https://shop.example/webhook/"
    assert body["redirection_url"] == "https://shop.example/payment/return/"
    billing = body["billing_data"]
    assert (billing["first_name"], billing["last_name"], billing["email"]) == (
        "Amira", "Fathy", "amira@example.com")
    assert billing["phone_number"] == "NA"


def test_expiration_counts_the_whole_seconds_left(world: ShopWorld,
                                                 stub_server: StubServer) -> None:
    stub_server.reply_json(201, CREATED)
    gateway = gateway_for(world, stub_server.url)
    place(world, gateway)
    with world.uow:
        order = world.uow.orders.get(1)
    assert order is not None

    world.clock.advance(timedelta(minutes=9, seconds=59, milliseconds=400))
    gateway.create_intention(order, _customer(world), order.expires_at)
    world.clock.advance(timedelta(minutes=5))
    gateway.create_intention(order, _customer(world), order.expires_at)

    assert [r.json()["expiration"] for r in stub_server.requests] == [600, 1, 1]


def test_success_attaches_the_intention_to_the_order(world: ShopWorld,
                                                    stub_server: StubServer) -> None:
    stub_server.reply_json(201, CREATED)

    order = place(world, gateway_for(world, stub_server.url))

    assert order.status is OrderStatus.PENDING
    payment = order.payment
    assert payment is not None
    assert payment.intention_id == "pi_test_7c0e2f1a9b8d4c3e"
    assert client_secret(payment) == "egy_csk_test_a1b2+c3/d4="
    assert payment.provider_order_id == "217503754"
    url = urlsplit(payment.checkout_url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{stub_server.url}/unifiedcheckout/"
    assert parse_qs(url.query) == {"publicKey": [PUBLIC_KEY],
                                   "clientSecret": ["egy_csk_test_a1b2+c3/d4="]}
    with world.uow:
        stored = world.uow.orders.get(order.id or 0)
    assert stored is not None and stored.payment == payment
    assert world.stock(world.pen_id) == 8


def test_success_without_paymob_order_id(world: ShopWorld, stub_server: StubServer) -> None:
    stub_server.reply_json(201, {"id": "pi_test_1", "client_secret": "csk_1"})

    order = place(world, gateway_for(world, stub_server.url))

    assert order.payment is not None
    assert order.payment.provider_order_id is None
    assert order.payment.intention_id == "pi_test_1"


def assert_order_failed_and_stock_back(world: ShopWorld) -> None:
    with world.uow:
        [order] = world.uow.orders.find(OrderQuery()).items
    assert order.status is OrderStatus.FAILED
    assert order.payment is None
    assert world.stock(world.pen_id) == 10
    assert world.stock(world.book_id) == 5


@pytest.mark.parametrize(("status", "payload"), [
    (401, {"detail": "Authentication credentials were not provided."}),
    (404, {"detail": "Integration ID/Name does not exist in our system."}),
    (400, {"amount": ["Ensure this value is greater than or equal to 1."]}),
    (500, {"detail": "Internal server error"}),
    (503, {"detail": "Service unavailable"}),
])
def test_error_status_fails_the_order(world: ShopWorld, stub_server: StubServer,
                                      status: int, payload: object) -> None:
    stub_server.reply_json(status, payload)

    with pytest.raises(PaymentProviderError, match=f"HTTP {status}"):
        place(world, gateway_for(world, stub_server.url))

    assert len(stub_server.requests) == 1  # never retried
    assert_order_failed_and_stock_back(world)


def test_redirect_is_not_followed(world: ShopWorld, stub_server: StubServer) -> None:
    stub_server.reply_text(302, "")

    with pytest.raises(PaymentProviderError, match="HTTP 302"):
        place(world, gateway_for(world, stub_server.url))

    assert len(stub_server.requests) == 1


def test_slow_answer_times_out_without_retry(world: ShopWorld, stub_server: StubServer) -> None:
    stub_server.reply_json(201, CREATED)
    stub_server.delay = 3.0

    with pytest.raises(PaymentProviderError, match="did not answer in time"):
        place(world, gateway_for(world, stub_server.url, read_timeout=0.2))

    assert len(stub_server.requests) == 1
    assert_order_failed_and_stock_back(world)


def test_connection_refused_fails_the_order(world: ShopWorld, refused_url: str) -> None:
    with pytest.raises(PaymentProviderError, match="could not be reached"):
        place(world, gateway_for(world, refused_url))

    assert_order_failed_and_stock_back(world)


@pytest.mark.parametrize("text", ["<html>Bad gateway</html>", "", "{not json"])
def test_answer_that_is_not_json_fails_the_order(world: ShopWorld, stub_server: StubServer,
                                                 text: str) -> None:
    stub_server.reply_text(201, text)

    with pytest.raises(PaymentProviderError, match="not JSON"):
        place(world, gateway_for(world, stub_server.url))

    assert_order_failed_and_stock_back(world)


@pytest.mark.parametrize("payload", [
    {"id": "pi_test_1"},
    {"id": "pi_test_1", "client_secret": ""},
    {"id": "pi_test_1", "client_secret": 42},
    {"client_secret": "csk_1"},
    {"id": None, "client_secret": "csk_1"},
    ["pi_test_1", "csk_1"],
    "csk_1",
])
def test_answer_without_usable_intention_fails_the_order(world: ShopWorld,
                                                         stub_server: StubServer,
                                                         payload: object) -> None:
    stub_server.reply_json(201, payload)

    with pytest.raises(PaymentProviderError):
        place(world, gateway_for(world, stub_server.url))

    assert_order_failed_and_stock_back(world)


def test_secrets_never_reach_logs_or_errors(world: ShopWorld, stub_server: StubServer,
                                            caplog: pytest.LogCaptureFixture) -> None:
    # Even a provider that echoes the Authorization header back must not leak it.
    stub_server.reply_json(401, {"detail": f"Bad token: Token {SECRET_KEY}"})
    caplog.set_level(logging.DEBUG)

    with pytest.raises(PaymentProviderError) as raised:
        place(world, gateway_for(world, stub_server.url))

    assert caplog.records, "the failure must be logged"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    logged += "\n".join(str(record.args) for record in caplog.records)
    for secret in (SECRET_KEY, HMAC_SECRET):
        assert secret not in logged
        assert secret not in str(raised.value)
    assert "HTTP 401" in logged


def test_settings_repr_hides_secrets() -> None:
    shown = repr(make_settings())
    assert SECRET_KEY not in shown and HMAC_SECRET not in shown
    assert PUBLIC_KEY in shown


def test_order_in_another_currency_is_refused_before_calling(
        world: ShopWorld, stub_server: StubServer) -> None:
    with pytest.raises(PaymentProviderError, match="EGP"):
        place(world, gateway_for(world, stub_server.url, currency="USD"))
    assert stub_server.requests == []
    assert_order_failed_and_stock_back(world)


def test_caller_session_is_used(world: ShopWorld, stub_server: StubServer) -> None:
    stub_server.reply_json(201, CREATED)
    session = requests.Session()
    session.headers["User-Agent"] = "shop-test/1"

    PaymobGateway(make_settings(stub_server.url), world.clock, session).create_intention(
        *_order_and_customer(world))

    assert stub_server.requests[0].headers["User-Agent"] == "shop-test/1"


def _customer(world: ShopWorld) -> User:
    with world.uow:
        user = world.uow.users.get(world.user_id)
    assert user is not None
    return user


def _order_and_customer(world: ShopWorld) -> tuple[Order, User, datetime]:
    with world.uow:
        products = world.uow.products.get_many([world.pen_id])
        lines = order_lines(world.cart().cart[:1], products)
        now = world.clock.now()
        order = world.uow.orders.add(new_order(world.user_id, lines, now,
                                               now + timedelta(minutes=10)))
        world.uow.commit()
    return order, _customer(world), order.expires_at


def test_an_omani_order_goes_to_paymob_in_baisas(world: ShopWorld,
                                                 stub_server: StubServer) -> None:
    stub_server.reply_json(201, CREATED)
    incense = world.add_product("Frankincense", Money.parse("12.345", "OMR"), 4)
    gateway = gateway_for(world, stub_server.url, currency="OMR")

    place_order(world.uow, world.services(gateway),
                PlaceOrder(user_id=world.user_id, cart=(CartLine(incense, 3),)))

    body = stub_server.requests[0].json()
    assert (body["amount"], body["currency"]) == (37035, "OMR")  # 37.035 rials, exactly
    assert body["items"][0]["amount"] == 12345


def test_billing_data_carries_the_customer_s_name_email_and_phone(
        world: ShopWorld, stub_server: StubServer) -> None:
    stub_server.reply_json(201, CREATED)
    with world.uow:
        customer = world.uow.users.get(world.user_id)
        assert customer is not None
        customer.phone_number = "+201001234567"
        world.uow.users.update(customer)
        world.uow.commit()

    place(world, gateway_for(world, stub_server.url))

    billing = stub_server.requests[0].json()["billing_data"]
    assert {name: billing[name] for name in ("first_name", "last_name", "email",
                                             "phone_number")} == {
        "first_name": "Amira", "last_name": "Fathy", "email": "amira@example.com",
        "phone_number": "+201001234567"}


KIOSK_SETTINGS = {"integration_ids": (4900001, 4900003), "integrations": (
    Integration(4900001, "card"), Integration(4900003, "kiosk", timedelta(hours=48)))}
METHODS = PaymentMethods((PaymentMethod("card", timedelta(minutes=10)),
                          PaymentMethod("kiosk", timedelta(hours=48))), timedelta(minutes=10))


@pytest.mark.parametrize(("method", "ids", "seconds"), [
    ("kiosk", [4900003], 48 * 3600), ("card", [4900001], 600), (None, [4900001], 600)])
def test_the_intention_offers_the_method_s_integrations_for_its_window(
        world: ShopWorld, stub_server: StubServer, method: str | None, ids: list[int],
        seconds: int) -> None:
    stub_server.reply_json(201, CREATED)
    gateway = gateway_for(world, stub_server.url, **KIOSK_SETTINGS)
    services = evolve(world.services(gateway), methods=METHODS)

    order = place_order(world.uow, services, evolve(world.cart(), payment_method=method))

    body = stub_server.requests[0].json()
    assert (body["payment_methods"], body["expiration"]) == (ids, seconds)
    assert order.expires_at == world.clock.now() + timedelta(seconds=seconds)
