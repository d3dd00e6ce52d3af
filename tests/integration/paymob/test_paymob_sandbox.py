"""The offline sandbox: its intentions, and callbacks it builds that the real verification
and the core's callback use case accept unchanged."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from attrs import evolve

from shop_adapters.paymob.callbacks import (
    TRANSACTION_HMAC_FIELDS,
    transaction_hmac,
    verify_transaction_callback,
)
from shop_adapters.paymob.references import client_secret
from shop_adapters.paymob.sandbox import (
    SandboxGateway,
    build_transaction_callback,
    deliver_callback,
    deliver_until_acknowledged,
    order_id_from_client_secret,
)
from shop_adapters.paymob.settings import Integration
from shop_core.errors import InvalidSignature, PaymentProviderError
from shop_core.money import Money
from shop_core.orders import CartLine, Order, OrderStatus
from shop_core.payment_methods import PaymentMethod, PaymentMethods
from shop_core.payments import CallbackOutcome
from shop_core.use_cases.ordering import PlaceOrder, place_order
from shop_core.use_cases.payments import apply_payment_callback

from .conftest import HMAC_SECRET, PUBLIC_KEY, ShopWorld, StubServer, make_settings

SETTINGS = make_settings()


def placed(world: ShopWorld) -> Order:
    return place_order(world.uow, world.services(SandboxGateway(SETTINGS, world.clock)),
                       world.cart())


def stored(world: ShopWorld, order_id: int) -> Order:
    with world.uow:
        order = world.uow.orders.get(order_id)
    assert order is not None
    return order


def test_sandbox_intention_points_at_the_shops_own_checkout(world: ShopWorld) -> None:
    order = placed(world)

    payment = order.payment
    assert payment is not None and order.id is not None
    url = urlsplit(payment.checkout_url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == (
        "https://shop.example/sandbox/paymob/unifiedcheckout/")
    secret = client_secret(payment)
    assert secret is not None
    assert parse_qs(url.query) == {"publicKey": [PUBLIC_KEY], "clientSecret": [secret]}
    assert order_id_from_client_secret(secret) == order.id
    assert payment.provider_order_id and payment.provider_order_id.isdigit()
    assert payment.provider_order_id != str(order.id)
    assert stored(world, order.id).payment == payment


def test_client_secrets_are_unguessable(world: ShopWorld) -> None:
    first, second = placed(world), placed(world)
    assert first.payment and second.payment
    first_secret, second_secret = client_secret(first.payment), client_secret(second.payment)
    assert first_secret and second_secret and first_secret != second_secret
    assert len(first_secret) >= len("sandbox_1_") + 32


@pytest.mark.parametrize("secret", [None, "", "sandbox_", "sandbox_12",
                                    "sandbox_x_abcdefghij1234567",
                                    "sandbox_0_abcdefghijklmnopqrstuvwx",
                                    "sandbox_-1_abcdefghijklmnopqrstuvwx",
                                    "sandbox_7_short", "egy_csk_test_a1b2c3d4e5f6a7b8c9d0",
                                    "sandbox_7_abcdefghijklmnop qrstuvwx"])
def test_other_strings_name_no_order(secret: Any) -> None:
    assert order_id_from_client_secret(secret) is None


def test_built_callback_has_every_signed_field(world: ShopWorld) -> None:
    order = placed(world)
    body, signature = build_transaction_callback(order, success=True, transaction_id=555,
                                                 settings=SETTINGS, now=world.clock.now())

    assert body["type"] == "TRANSACTION"
    obj = body["obj"]
    for name in TRANSACTION_HMAC_FIELDS:
        node = obj
        for key in name.split("."):
            assert key in node, f"{name} is missing"
            node = node[key]
        assert node is not None, f"{name} is null"
    assert obj["amount_cents"] == 22499 and obj["currency"] == "EGP"
    assert order.payment is not None
    assert str(obj["order"]["id"]) == order.payment.provider_order_id
    assert obj["order"]["merchant_order_id"] == f"shop-{order.id}"
    assert obj["integration_id"] == SETTINGS.integration_ids[0]
    assert signature == transaction_hmac(obj, HMAC_SECRET)
    json.dumps(body)  # travels as JSON


def test_built_callback_verifies_as_paymobs_would(world: ShopWorld) -> None:
    order = placed(world)
    body, signature = build_transaction_callback(order, success=True, transaction_id=555,
                                                 settings=SETTINGS, now=world.clock.now())
    # Round-trip through JSON text, as the webhook receives it.
    callback = verify_transaction_callback(json.loads(json.dumps(body)), signature,
                                           HMAC_SECRET)

    assert callback is not None
    assert callback.transaction_id == "555"
    assert callback.amount == order.total == Money(22499, "EGP")
    assert callback.success and not callback.pending and not callback.is_reversal
    assert order.payment is not None
    assert callback.provider_order_id == order.payment.provider_order_id
    assert callback.order_id == order.id


def test_built_callback_does_not_verify_with_another_secret(world: ShopWorld) -> None:
    order = placed(world)
    body, signature = build_transaction_callback(order, success=True, transaction_id=555,
                                                 settings=SETTINGS, now=world.clock.now())
    with pytest.raises(InvalidSignature):
        verify_transaction_callback(body, signature, "another-secret")


def test_pay_marks_the_order_paid(world: ShopWorld) -> None:
    order = placed(world)
    world.clock.advance(timedelta(minutes=2))
    body, signature = build_transaction_callback(order, success=True, transaction_id=555,
                                                 settings=SETTINGS, now=world.clock.now())
    callback = verify_transaction_callback(body, signature, HMAC_SECRET)
    assert callback is not None

    outcome = apply_payment_callback(world.uow, world.clock, callback)

    assert outcome is CallbackOutcome.PAID
    assert stored(world, order.id or 0).status is OrderStatus.SUCCESS
    assert (world.stock(world.pen_id), world.stock(world.book_id)) == (8, 4)


def test_decline_fails_the_order_and_restores_stock(world: ShopWorld) -> None:
    order = placed(world)
    body, signature = build_transaction_callback(order, success=False, transaction_id=556,
                                                 settings=SETTINGS, now=world.clock.now())
    assert body["obj"]["success"] is False and body["obj"]["pending"] is False
    callback = verify_transaction_callback(body, signature, HMAC_SECRET)
    assert callback is not None

    outcome = apply_payment_callback(world.uow, world.clock, callback)

    assert outcome is CallbackOutcome.DECLINED
    assert stored(world, order.id or 0).status is OrderStatus.FAILED
    assert (world.stock(world.pen_id), world.stock(world.book_id)) == (10, 5)


def test_callback_for_an_order_without_a_paymob_order_id_finds_it_by_reference(
        world: ShopWorld) -> None:
    order = placed(world)
    assert order.payment is not None
    # As when Paymob's create response had no intention_order_id.
    bare = evolve(order.payment, provider_order_id=None)
    with world.uow:
        world.uow.orders.attach_payment(order.id or 0, bare, world.clock.now())
        world.uow.commit()
    order = stored(world, order.id or 0)

    body, signature = build_transaction_callback(order, success=True, transaction_id=557,
                                                 settings=SETTINGS, now=world.clock.now())
    callback = verify_transaction_callback(body, signature, HMAC_SECRET)
    assert callback is not None

    assert apply_payment_callback(world.uow, world.clock, callback) is (
        CallbackOutcome.PAID)


def test_deliver_callback_posts_it_like_paymob(world: ShopWorld,
                                               stub_server: StubServer) -> None:
    order = placed(world)
    body, signature = build_transaction_callback(order, success=True, transaction_id=558,
                                                 settings=SETTINGS, now=world.clock.now())
    stub_server.reply_json(200, {"detail": "Received."})

    status = deliver_callback(f"{stub_server.url}/webhook/", body, signature, timeout=5)

    assert status == 200
    [sent] = stub_server.requests
    url = urlsplit(sent.path)
    assert url.path == "/webhook/"
    assert parse_qs(url.query) == {"hmac": [signature]}
    assert sent.headers["Content-Type"] == "application/json"
    received = sent.json()
    assert received == body
    callback = verify_transaction_callback(received, parse_qs(url.query)["hmac"][0],
                                           HMAC_SECRET)
    assert callback is not None and callback.transaction_id == "558"


def test_deliver_callback_reports_the_webhooks_status(world: ShopWorld,
                                                      stub_server: StubServer) -> None:
    order = placed(world)
    body, signature = build_transaction_callback(order, success=True, transaction_id=559,
                                                 settings=SETTINGS, now=world.clock.now())
    stub_server.reply_json(401, {"detail": "Invalid signature."})

    assert deliver_callback(f"{stub_server.url}/webhook/", body, signature, timeout=5) == 401


def test_deliver_callback_to_nowhere_is_a_provider_error(world: ShopWorld,
                                                         refused_url: str) -> None:
    order = placed(world)
    body, signature = build_transaction_callback(order, success=True, transaction_id=560,
                                                 settings=SETTINGS, now=world.clock.now())
    with pytest.raises(PaymentProviderError):
        deliver_callback(f"{refused_url}/webhook/", body, signature, timeout=2)


def test_the_sandbox_delivers_again_until_the_webhook_acknowledges(
        world: ShopWorld, stub_server: StubServer) -> None:
    order = placed(world)
    body, signature = build_transaction_callback(order, success=True, transaction_id=561,
                                                 settings=SETTINGS, now=world.clock.now())
    stub_server.statuses = [503, 502]  # the shop restarting, then its database coming back
    stub_server.reply_json(200, {})
    pauses: list[float] = []

    status = deliver_until_acknowledged(f"{stub_server.url}/webhook/", body, signature,
                                        timeout=5, sleep=pauses.append)

    assert status == 200 and pauses == [1.0, 2.0]
    assert [recorded.body for recorded in stub_server.requests] == [
        stub_server.requests[0].body] * 3


def test_the_sandbox_does_not_repeat_a_callback_the_webhook_refused(
        world: ShopWorld, stub_server: StubServer) -> None:
    order = placed(world)
    body, signature = build_transaction_callback(order, success=True, transaction_id=562,
                                                 settings=SETTINGS, now=world.clock.now())
    stub_server.reply_json(401, {"detail": "Invalid signature."})

    assert deliver_until_acknowledged(f"{stub_server.url}/webhook/", body, signature,
                                      timeout=5, sleep=lambda _: None) == 401
    assert len(stub_server.requests) == 1


def test_the_sandbox_pays_through_an_integration_of_the_order_s_method(
        world: ShopWorld) -> None:
    settings = make_settings(integration_ids=(7, 8), integrations=(
        Integration(7, "card"), Integration(8, "kiosk", timedelta(hours=48))))
    methods = PaymentMethods((PaymentMethod("card", timedelta(minutes=10)),
                              PaymentMethod("kiosk", timedelta(hours=48))),
                             timedelta(minutes=10))
    services = evolve(world.services(SandboxGateway(settings, world.clock)), methods=methods)
    order = place_order(world.uow, services, evolve(world.cart(), payment_method="kiosk"))

    body, _ = build_transaction_callback(order, success=True, transaction_id=556,
                                         settings=settings, now=world.clock.now())

    assert body["obj"]["integration_id"] == 8
    assert stored(world, order.id or 0).expires_at == world.clock.now() + timedelta(hours=48)


def test_an_omani_payment_in_baisas_settles_its_order(world: ShopWorld) -> None:
    incense = world.add_product("Frankincense", Money.parse("1.255", "OMR"), 4)
    settings = make_settings(currency="OMR")
    order = place_order(world.uow, world.services(SandboxGateway(settings, world.clock)),
                        PlaceOrder(user_id=world.user_id, cart=(CartLine(incense, 2),)))
    body, signature = build_transaction_callback(order, success=True, transaction_id=557,
                                                 settings=settings, now=world.clock.now())
    assert (body["obj"]["amount_cents"], body["obj"]["currency"]) == (2510, "OMR")
    callback = verify_transaction_callback(body, signature, HMAC_SECRET)
    assert callback is not None

    assert apply_payment_callback(world.uow, world.clock, callback) is CallbackOutcome.PAID
    assert stored(world, order.id or 0).status is OrderStatus.SUCCESS
