"""Security headers on every response, and CORS only for the origins an operator names."""

from __future__ import annotations

import pytest

from shop_web.config import ConfigurationError, Settings

from .conftest import AppFactory

STOREFRONT = "https://store.example.com"


def test_every_answer_says_nosniff_and_pages_get_a_strict_policy(make_lite: AppFactory) -> None:
    api = make_lite()

    catalogue = api.http.get("/api/v1/products/")
    missing = api.http.get("/no/such/page")
    page = api.http.get("/payment/return/")
    docs = api.http.get("/api/v1/docs")

    for reply in (catalogue, missing, page, docs):
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in catalogue.headers
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none';")
    assert "script-src" not in page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in docs.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in catalogue.headers  # not in production


def test_without_cors_origins_no_other_site_may_read_the_api(make_lite: AppFactory) -> None:
    api = make_lite()

    reply = api.http.get("/api/v1/products/", headers={"Origin": STOREFRONT})

    assert reply.status_code == 200
    assert "Access-Control-Allow-Origin" not in reply.headers


def test_a_named_storefront_gets_its_preflight_answered(make_lite: AppFactory) -> None:
    api = make_lite(CORS_ORIGINS=f"{STOREFRONT}, https://other.example.com")

    preflight = api.http.options("/api/v1/orders/", headers={
        "Origin": STOREFRONT, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type, Idempotency-Key"})
    read = api.http.get("/api/v1/products/", headers={"Origin": STOREFRONT})
    stranger = api.http.get("/api/v1/products/", headers={"Origin": "https://evil.example"})

    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == STOREFRONT
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "idempotency-key" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    assert read.headers["Access-Control-Allow-Origin"] == STOREFRONT
    assert "X-Request-ID" in read.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Origin" not in stranger.headers


def test_a_wildcard_origin_is_refused_at_start_up() -> None:
    with pytest.raises(ConfigurationError, match="CORS_ORIGINS"):
        Settings.from_env({"CORS_ORIGINS": "*"})


def test_production_answers_insist_on_https(make_lite: AppFactory) -> None:
    from shop_web.headers import HSTS, init_app

    api = make_lite()
    init_app(api.app, Settings.from_env({
        "SHOP_ENV": "production", "JWT_SECRET_KEY": "p" * 40, "PAYMOB_SECRET_KEY": "s",
        "PAYMOB_PUBLIC_KEY": "p", "PAYMOB_HMAC_SECRET": "h", "PAYMOB_INTEGRATION_IDS": "1"}))

    assert api.http.get("/healthz").headers["Strict-Transport-Security"] == HSTS
