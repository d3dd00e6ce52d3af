"""`shop paymob check` as an operator runs it: what the shop sends and to whom, and, live,
the keys verified against a real HTTP server on 127.0.0.1 playing Paymob."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from click.testing import CliRunner, Result

from shop_web.cli import main

from .conftest import StubServer

SECRET = "omn_sk_live_5a4b3c2d1e0f"
PUBLIC = "omn_pk_live_0f1e2d3c4b5a"
API_KEY = "ZXlKaGJHY2lPaUpJVXpVeE1pSXNJ-API-KEY"
HMAC = "HMAC-1a2b3c4d5e6f"
TOKEN = "tok-9f8e7d6c5b4a"
ACCOUNT_INTEGRATIONS = {"count": 2, "results": [
    {"id": 4900001, "gateway_type": "VPC", "is_live": True, "currency": "OMR"},
    {"id": 4900003, "gateway_type": "OMANNET", "is_live": True, "currency": "OMR"},
]}


def check(env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, ["paymob", "check"], env=env)


def live(tmp_path: Path, stub: StubServer, **changes: str) -> dict[str, str]:
    return {"SHOP_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp_path}/shop.db",
            "PAYMOB_MODE": "live", "PAYMOB_API_BASE": stub.url, "PAYMOB_SECRET_KEY": SECRET,
            "PAYMOB_PUBLIC_KEY": PUBLIC, "PAYMOB_HMAC_SECRET": HMAC, "PAYMOB_API_KEY": API_KEY,
            "PAYMOB_CURRENCY": "OMR", "PAYMOB_INTEGRATION_IDS": "",
            "PAYMOB_INTEGRATIONS": "4900001:card,4900003:kiosk:48h",
            "PUBLIC_BASE_URL": "https://shop.example", **changes}


def assert_no_secret(output: str) -> None:
    for secret in (SECRET, API_KEY, HMAC, TOKEN):
        assert secret not in output


def test_sandbox_prints_the_set_up_and_calls_no_one(tmp_path: Path) -> None:
    result = check({"SHOP_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp_path}/s.db",
                    "PAYMOB_MODE": "sandbox", "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
                    "PAYMOB_SECRET_KEY": "", "PAYMOB_INTEGRATIONS": "",
                    "PAYMOB_INTEGRATION_IDS": ""})
    assert result.exit_code == 0, result.output
    assert "sandbox: the shop's own checkout page" in result.output
    assert "card" in result.output and "10m (default window)" in result.output
    assert "http://127.0.0.1:8000/webhook/" in result.output
    assert "none in sandbox mode" in result.output


def test_live_verifies_the_keys_without_creating_anything(tmp_path: Path,
                                                          stub_server: StubServer) -> None:
    stub_server.route("POST", "/api/auth/tokens", 201, {"token": TOKEN, "profile": {}})
    stub_server.route("GET", "/api/ecommerce/integrations", 200, ACCOUNT_INTEGRATIONS)

    result = check(live(tmp_path, stub_server))

    assert result.exit_code == 0, result.output
    output = result.output
    assert "Oman (omn)" in output and "key mode:     live" in output
    assert f"{stub_server.url} (PAYMOB_API_BASE)" in output
    assert "4900003     kiosk         2d" in output
    assert "https://shop.example/webhook/" in output
    assert "https://shop.example/payment/return/" in output
    assert "4900001:      ok (VPC, live, OMR)" in output
    assert "Paymob check passed." in output
    assert_no_secret(output)
    auth, listing = stub_server.requests
    assert (auth.method, auth.path, auth.json()) == ("POST", "/api/auth/tokens",
                                                     {"api_key": API_KEY})
    assert listing.method == "GET" and listing.path.startswith("/api/ecommerce/integrations?")
    assert listing.headers["Authorization"] == f"Bearer {TOKEN}"
    assert parse_qs(urlsplit(listing.path).query)["page_size"] == ["500"]


def test_a_refused_api_key_fails_the_check(tmp_path: Path, stub_server: StubServer) -> None:
    stub_server.route("POST", "/api/auth/tokens", 403, {"detail": "incorrect credentials"})

    result = check(live(tmp_path, stub_server))

    assert result.exit_code == 1
    assert "auth token:   FAILED: Paymob refused (HTTP 403)." in result.output
    assert "Paymob check FAILED: 1 problem(s)." in result.output
    assert [request.path for request in stub_server.requests] == ["/api/auth/tokens"]
    assert_no_secret(result.output)


def test_an_integration_missing_from_the_account_fails_the_check(
        tmp_path: Path, stub_server: StubServer) -> None:
    stub_server.route("POST", "/api/auth/tokens", 201, {"token": TOKEN})
    stub_server.route("GET", "/api/ecommerce/integrations", 200, {"results": [
        {"id": 4900001, "gateway_type": "VPC", "is_live": False, "currency": "OMR"}]})

    result = check(live(tmp_path, stub_server))

    assert result.exit_code == 1
    assert "4900001:      FAILED: a test integration with live keys." in result.output
    assert "4900003:      FAILED: not an integration of this account." in result.output


def test_a_live_check_without_an_api_key_says_what_is_missing(
        tmp_path: Path, refused_url: str) -> None:
    result = check(live(tmp_path, StubServer(url=refused_url), PAYMOB_API_KEY=""))
    assert result.exit_code == 1 and "PAYMOB_API_KEY is not set" in result.output


def test_an_unreachable_paymob_fails_the_check(tmp_path: Path, refused_url: str) -> None:
    result = check(live(tmp_path, StubServer(url=refused_url)))
    assert result.exit_code == 1 and "Paymob could not be reached" in result.output


def test_a_currency_the_market_does_not_take_is_pointed_out(tmp_path: Path,
                                                            refused_url: str) -> None:
    result = check(live(tmp_path, StubServer(url=refused_url), PAYMOB_CURRENCY="EGP"))
    assert "EGP (the Oman market takes OMR" in result.output
