"""Tokens that must not work, and errors that must stay JSON in the contract's shape."""

from __future__ import annotations

import base64
import json
import logging
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from tests.integration.api.conftest import JWT_SECRET, Api, AppFactory


def _claims(api: Api, username: str) -> dict[str, object]:
    token = api.tokens(username)["access"]
    return dict(jwt.decode(token, JWT_SECRET, algorithms=["HS256"]))


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _status(api: Api, token: str) -> int:
    response = api.http.get("/api/v1/profile/", headers={"Authorization": f"Bearer {token}"})
    if response.status_code != 200:
        assert set(response.json) == {"detail"}
    return response.status_code


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_forged_tokens_are_401(client: Api) -> None:
    client.register("amira")
    token = client.tokens("amira")["access"]
    claims = _claims(client, "amira")
    header, payload, signature = token.split(".")
    tampered_payload = _b64({**claims, "sub": "2", "is_staff": True})
    forged = [
        f"{header}.{tampered_payload}.{signature}",  # claims changed, old signature
        f"{header}.{payload}.{signature[:-4]}AAAA",  # signature changed
        f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",  # alg: none
        jwt.encode(claims, JWT_SECRET, algorithm="HS512"),  # not the one algorithm allowed
        jwt.encode(claims, "another secret of quite some length 0123", algorithm="HS256"),
        "garbage",
    ]
    for bad in forged:
        assert _status(client, bad) == 401, bad


def test_expired_access_token_is_401(make_lite: AppFactory) -> None:
    api = make_lite(JWT_ACCESS_TOKEN_SECONDS="1")
    api.register("amira")
    token = api.tokens("amira")["access"]
    assert _status(api, token) == 200
    time.sleep(1.1)
    assert _status(api, token) == 401


def test_a_refresh_token_is_not_an_access_token(lite: Api) -> None:
    lite.register("amira")
    assert _status(lite, lite.tokens("amira")["refresh"]) == 401


def test_a_token_for_a_user_who_does_not_exist_is_401(lite: Api) -> None:
    now = datetime.now(UTC)
    token = jwt.encode({"sub": "9999", "type": "access", "jti": "x", "fresh": False,
                        "iat": now, "nbf": now, "exp": now + timedelta(minutes=5)},
                       JWT_SECRET, algorithm="HS256")
    assert _status(lite, token) == 401


def test_a_malformed_authorization_header_is_401(lite: Api) -> None:
    for value in ("Token abc", "Bearer", "Bearer a b"):
        response = lite.http.get("/api/v1/profile/", headers={"Authorization": value})
        assert response.status_code == 401 and set(response.json) == {"detail"}, value


def test_a_bad_token_is_401_even_where_none_is_needed(lite: Api) -> None:
    response = lite.http.get("/api/v1/products/", headers={"Authorization": "Bearer x.y.z"})
    assert response.status_code == 401


def test_sign_in_is_rate_limited_per_address_with_retry_after(make_lite: AppFactory) -> None:
    api = make_lite(RATE_LIMIT_AUTH="2/minute")
    body = {"username": "nobody", "password": "whatever-it-is"}
    codes = [api.http.post("/api/v1/token/", json=body).status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    limited = api.http.post("/api/v1/token/", json=body)
    assert limited.status_code == 429 and set(limited.json) == {"detail"}
    assert 0 < int(limited.headers["Retry-After"]) <= 61
    other = api.http.post("/api/v1/token/", json=body,
                          environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 401
    # Each endpoint has its own budget.
    assert api.http.post("/api/v1/register/", json={}).status_code == 400
    refresh = [api.http.post("/api/v1/token/refresh/", json={}).status_code for _ in range(3)]
    assert refresh == [400, 400, 429]


def test_malformed_and_non_object_json_are_400(lite: Api) -> None:
    for raw in ("{bad", "[1, 2]", '"text"', "null", "[" * 100_000 + "]" * 100_000):
        response = lite.http.post("/api/v1/register/", data=raw,
                                  content_type="application/json")
        assert response.status_code == 400, raw[:20]
        assert set(response.json) == {"detail"}, raw[:20]


def test_a_body_over_one_mebibyte_is_413(lite: Api) -> None:
    body = json.dumps({"username": "x" * (1024 * 1024)})
    response = lite.http.post("/api/v1/register/", data=body, content_type="application/json")
    assert response.status_code == 413 and set(response.json) == {"detail"}


def test_unknown_routes_and_wrong_methods_are_json(lite: Api) -> None:
    missing = lite.http.get("/api/v1/nothing-here/")
    assert missing.status_code == 404 and missing.json == {"detail": "Not found."}
    wrong = lite.http.delete("/api/v1/token/")
    assert wrong.status_code == 405 and set(wrong.json) == {"detail"}
    assert "POST" in wrong.headers["Allow"]


def test_a_bug_is_a_500_without_a_traceback(lite: Api, caplog: pytest.LogCaptureFixture,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("shop_web.api.products.list_products", broken)
    with caplog.at_level(logging.ERROR):
        response = lite.http.get("/api/v1/products/")
    assert response.status_code == 500
    assert response.json == {"detail": "Internal server error."}
    assert b"secret internals" not in response.data
    assert "secret internals" in caplog.text  # the log has it


def test_health_and_readiness(lite: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    assert lite.http.get("/healthz").json == {"status": "ok"}
    assert lite.http.get("/readyz").json == {"status": "ok"}

    def down() -> None:
        raise ConnectionError("database gone")

    monkeypatch.setattr(lite.shop.database, "ping", down)
    response = lite.http.get("/readyz")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.json == {"status": "unavailable", "detail": "database is unreachable."}


def test_readiness_reports_redis_without_failing_for_it(lite: Api,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    class Redis:
        answers = True

        def ping(self) -> bool:
            if not self.answers:
                raise ConnectionError("redis gone")
            return True

    redis = Redis()
    monkeypatch.setattr(lite.shop, "redis", redis)
    assert lite.http.get("/readyz").json == {"status": "ok", "redis": "ok"}
    redis.answers = False
    response = lite.http.get("/readyz")
    assert response.status_code == 200  # orders are still taken: stay in service
    assert response.json == {"status": "degraded", "redis": "unreachable"}


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(
        make_lite: AppFactory) -> None:
    api = make_lite(RATE_LIMIT_AUTH="1/minute", TRUSTED_PROXIES="1")
    body = {"username": "nobody", "password": "whatever-it-is"}

    def sign_in(client_address: str) -> int:
        return api.http.post("/api/v1/token/", json=body,
                             headers={"X-Forwarded-For": client_address}).status_code

    assert [sign_in("203.0.113.7"), sign_in("203.0.113.7")] == [401, 429]
    assert sign_in("198.51.100.4") == 401  # another client behind the same proxy


def test_without_trusted_proxies_forwarded_for_cannot_dodge_the_limit(
        make_lite: AppFactory) -> None:
    api = make_lite(RATE_LIMIT_AUTH="1/minute")
    body = {"username": "nobody", "password": "whatever-it-is"}
    codes = [api.http.post("/api/v1/token/", json=body,
                           headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
             for n in range(2)]
    assert codes == [401, 429]
