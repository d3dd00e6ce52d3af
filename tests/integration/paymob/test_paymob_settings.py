"""The settings value the composition root builds once."""

from __future__ import annotations

from typing import Any

import pytest
from attrs import evolve

from .conftest import HMAC_SECRET, SECRET_KEY, make_settings


def test_urls_are_built_from_the_public_base_url_without_double_slashes() -> None:
    settings = make_settings("https://accept.paymob.com/", public_base_url="https://shop.example/")
    assert settings.api_base == "https://accept.paymob.com"
    assert settings.notification_url == "https://shop.example/webhook/"
    assert settings.redirection_url == "https://shop.example/payment/return/"
    assert settings.timeout == (1.0, 2.0)


def test_defaults_follow_the_contract() -> None:
    from shop_adapters.paymob.settings import PaymobSettings

    settings = PaymobSettings(secret_key="", public_key="pk", hmac_secret="h",
                              integration_ids=[1], public_base_url="http://127.0.0.1:8000")
    assert (settings.api_base, settings.currency, settings.reference_prefix) == (
        "https://accept.paymob.com", "EGP", "shop")
    assert settings.integration_ids == (1,)
    assert settings.connect_timeout > 0 and settings.read_timeout > 0


@pytest.mark.parametrize("ids", [("123",), (True,), (0,), (1.5,)])
def test_integration_ids_must_be_positive_ints(ids: tuple[object, ...]) -> None:
    with pytest.raises(ValueError):
        make_settings(integration_ids=ids)


@pytest.mark.parametrize("change", [{"connect_timeout": 0}, {"read_timeout": -1.0}])
def test_timeouts_must_be_positive(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        evolve(make_settings(), **change)


def test_repr_and_str_hide_secrets() -> None:
    settings = make_settings()
    for text in (repr(settings), str(settings), f"{settings}"):
        assert SECRET_KEY not in text and HMAC_SECRET not in text
