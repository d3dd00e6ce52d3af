"""Which payment methods an order is opened with, and so how long it holds its stock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shop_core.accounts import User
from shop_core.errors import Rule, ValidationError, Violation
from shop_core.payment_methods import PaymentMethod, PaymentMethods

TEN_MINUTES, TWO_DAYS = timedelta(minutes=10), timedelta(days=2)
SHOP = PaymentMethods((PaymentMethod("card", TEN_MINUTES), PaymentMethod("wallet", TEN_MINUTES),
                       PaymentMethod("kiosk", TWO_DAYS)), TEN_MINUTES)


def customer(phone: str | None = None) -> User:
    return User(id=1, username="amira", email="amira@example.com", first_name="Amira",
                last_name="Fathy", is_staff=False, password_hash="x",
                date_joined=datetime(2026, 1, 1, tzinfo=UTC), phone_number=phone)


def test_a_named_method_is_offered_alone_for_its_window() -> None:
    offer = SHOP.offer("kiosk", customer())
    assert (offer.names, offer.window) == (("kiosk",), TWO_DAYS)


def test_no_method_offers_the_default_window_s_methods() -> None:
    offer = SHOP.offer(None, customer("+201001234567"))
    assert (offer.names, offer.window) == (("card", "wallet"), TEN_MINUTES)


def test_no_method_and_no_phone_leaves_the_wallet_out() -> None:
    assert SHOP.offer(None, customer()).names == ("card",)


def test_a_wallet_without_a_phone_names_the_phone() -> None:
    with pytest.raises(ValidationError) as refused:
        SHOP.offer("wallet", customer())
    assert refused.value.field_errors == {"phone_number": [Violation(Rule.PHONE_REQUIRED,
                                                                     "wallet")]}


def test_an_unknown_method_names_the_methods_taken() -> None:
    with pytest.raises(ValidationError) as refused:
        SHOP.offer("cheque", customer())
    assert refused.value.field_errors == {"payment_method": [
        Violation(Rule.UNKNOWN_PAYMENT_METHOD, ("card", "wallet", "kiosk"))]}


def test_a_shop_with_no_default_window_method_needs_one_named() -> None:
    kiosk_only = PaymentMethods((PaymentMethod("kiosk", TWO_DAYS),), TEN_MINUTES)
    with pytest.raises(ValidationError) as refused:
        kiosk_only.offer(None, customer())
    assert set(refused.value.field_errors) == {"payment_method"}


def test_a_method_is_named_once() -> None:
    with pytest.raises(ValueError):
        PaymentMethods((PaymentMethod("card", TEN_MINUTES),
                        PaymentMethod("card", TWO_DAYS)), TEN_MINUTES)
