"""Signing in to the back-office: staff only, a session cookie, CSRF, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.api.conftest import Api

from .conftest import Browser, text


def test_anonymous_visitors_are_sent_to_sign_in_and_come_back(api: Api) -> None:
    api.register("admin", staff=True)
    browser = Browser(api)
    answer = browser.get("/staff/orders/?status=pending")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/staff/sign-in?next=")
    signed_in = browser.post("/staff/sign-in", {
        "csrf_token": browser.csrf(answer.headers["Location"]), "username": "admin",
        "password": "correct horse battery", "next": "/staff/orders/?status=pending"})
    assert signed_in.headers["Location"] == "/staff/orders/?status=pending"
    assert "Orders" in text(browser.get("/staff/orders/?status=pending"))


def test_the_session_cookie_is_http_only_secure_and_lax(api: Api) -> None:
    api.register("admin", staff=True)
    answer = Browser(api).sign_in("admin")
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    assert "Path=/staff/" in cookie


def test_a_customer_with_the_right_password_is_refused(api: Api) -> None:
    api.register("alice")
    browser = Browser(api)
    answer = browser.sign_in("alice")
    assert answer.status_code == 403
    assert "for staff only" in text(answer)
    assert browser.get("/staff/").status_code == 302


def test_a_wrong_password_is_refused_and_the_rate_limit_is_the_apis(
        request: pytest.FixtureRequest) -> None:
    api: Api = request.getfixturevalue("make_lite")(RATE_LIMIT_AUTH="3/minute")
    api.register("admin", staff=True)
    browser = Browser(api)
    assert browser.sign_in("admin", "wrong password").status_code == 401
    assert api.http.post("/api/v1/token/", json={"username": "admin",
                                                "password": "nope"}).status_code == 401
    assert browser.sign_in("admin", "wrong password").status_code == 401
    limited = browser.sign_in("admin")  # the fourth try through either door
    assert limited.status_code == 429 and "Retry-After" in limited.headers


def test_an_overlong_password_is_refused_before_it_is_hashed(api: Api) -> None:
    api.register("admin", staff=True)
    assert Browser(api).sign_in("admin", "x" * 5000).status_code == 400


def test_a_form_without_its_csrf_token_is_refused(staff: Browser) -> None:
    answer = staff.post("/staff/products/new", {"name": "Lamp", "price": "1.00", "stock": "1",
                                                "request_key": "k1"})
    assert answer.status_code == 400
    assert "Reload the page" in text(answer)
    forged = staff.post("/staff/sign-out", {"csrf_token": "forged"})
    assert forged.status_code == 400
    assert staff.get("/staff/").status_code == 200  # still signed in


def test_signing_out_ends_the_session_even_for_a_copied_cookie(staff: Browser,
                                                                api: Api) -> None:
    copied = staff.session_cookie
    assert copied is not None
    staff.post("/staff/sign-out", {"csrf_token": staff.csrf("/staff/")})
    assert staff.get("/staff/").status_code == 302
    thief = Browser(api)
    thief.client.set_cookie("shop_staff", copied, domain="shop.test", path="/staff/")
    assert thief.get("/staff/").status_code == 302


def test_a_session_expires(staff: Browser, api: Api) -> None:
    assert staff.get("/staff/").status_code == 200
    api.shop.clock.advance(timedelta(hours=8))  # type: ignore[attr-defined]
    assert staff.get("/staff/").status_code == 302


def test_after_sign_in_only_back_office_pages_are_followed(api: Api) -> None:
    api.register("admin", staff=True)
    browser = Browser(api)
    for target in ("https://evil.example/", "//evil.example/staff/", "/api/v1/profile/"):
        answer = browser.post("/staff/sign-in", {
            "csrf_token": browser.csrf(), "username": "admin",
            "password": "correct horse battery", "next": target})
        assert answer.headers["Location"] == "/staff/"
