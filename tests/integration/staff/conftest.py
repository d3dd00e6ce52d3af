"""The back-office through the Flask test client, signed in as a staff member."""

from __future__ import annotations

import re
import weakref
from typing import Any

import pytest
from werkzeug.test import TestResponse

from shop_adapters.paymob.callbacks import transaction_hmac
from shop_adapters.paymob.sandbox import build_transaction_callback
from shop_core.ledger import Movement
from shop_web.staff.session import COOKIE
from tests.integration.api.conftest import (  # noqa: F401  # the API's fixtures
    PASSWORD,
    Api,
    AppFactory,
    clock,
    gateway,
    make_api,
    make_lite,
    migrated_sqlite,
    operations,
)

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_KEY = re.compile(r'name="request_key" value="([^"]+)"')
# The test client speaks plain http; the cookie is Secure outside development.
BASE_URL = "https://shop.test"


class Browser:
    """One browser's cookie jar on the back-office: reads pages, fills in their forms."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.client = api.app.test_client()

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, base_url=BASE_URL, **kwargs)

    def post(self, path: str, data: dict[str, str], **kwargs: Any) -> TestResponse:
        return self.client.post(path, data=data, base_url=BASE_URL, **kwargs)

    def form(self, page: str, action: str, fields: dict[str, str]) -> TestResponse:
        """Submit the form at `action` as rendered on `page`, with its hidden fields."""
        html = self.get(page).get_data(as_text=True)
        form = html[html.index(f'action="{action}"'):]
        form = form[:form.index("</form>")]
        hidden = {"csrf_token": _CSRF.search(form)}
        key = _KEY.search(form)
        data = {name: match.group(1) for name, match in hidden.items() if match}
        if key:
            data["request_key"] = key.group(1)
        version = re.search(r'name="version" value="(\d+)"', form)
        if version:
            data["version"] = version.group(1)
        return self.post(action, {**data, **fields})

    def csrf(self, page: str = "/staff/sign-in") -> str:
        match = _CSRF.search(self.get(page).get_data(as_text=True))
        assert match, "the page has a form with a CSRF token"
        return match.group(1)

    def sign_in(self, username: str, password: str = PASSWORD) -> TestResponse:
        return self.post("/staff/sign-in", {"csrf_token": self.csrf(), "username": username,
                                            "password": password})

    @property
    def session_cookie(self) -> str | None:
        cookie = self.client.get_cookie(COOKIE, domain="shop.test", path="/staff/")
        return cookie.value if cookie is not None else None


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def api(request: pytest.FixtureRequest) -> Api:
    make: AppFactory = request.getfixturevalue("make_lite")
    return make()


def signed_in_staff(api: Api) -> Browser:
    api.register("admin", staff=True)
    browser = Browser(api)
    assert browser.sign_in("admin").status_code == 302
    return browser


@pytest.fixture
def staff(api: Api) -> Browser:
    return signed_in_staff(api)


@pytest.fixture
def staff_on_both(database_url: str, request: pytest.FixtureRequest) -> Browser:
    """Signed in on a shop on SQLite, and again on PostgreSQL (`database_url` makes the
    test run once on each)."""
    make: AppFactory = request.getfixturevalue("make_api")
    return signed_in_staff(make())


_transactions = iter(range(7_000_001, 8_000_000))


_signed_in: weakref.WeakKeyDictionary[Api, dict[str, dict[str, str]]] = (
    weakref.WeakKeyDictionary())


def place_order(api: Api, product_id: int, quantity: int = 1, user: str = "buyer") -> int:
    """Place an order as `user` (signed in once per test shop: sign-ins are rate limited)."""
    known = _signed_in.setdefault(api, {})
    if user not in known:
        known[user] = api.auth(user)
    headers = known[user]
    placed = api.http.post("/api/v1/orders/", headers=headers, json={
        "cart_items": [{"product_id": product_id, "quantity": quantity}]})
    assert placed.status_code == 201, placed.json
    return int(placed.json["id"])


def pay(api: Api, order_id: int, movement: Movement = Movement.PAYMENT) -> int:
    """Deliver Paymob's signed success callback for the order's payment (or, with
    `movement`, its authorization); the transaction id."""
    with api.shop.uow() as uow:
        order = uow.orders.get(order_id)
    assert order is not None
    transaction_id = next(_transactions)
    body, _ = build_transaction_callback(order, success=True, transaction_id=transaction_id,
                                         settings=api.shop.paymob, now=api.shop.clock.now(),
                                         movement=movement)
    signature = transaction_hmac(body["obj"], api.shop.paymob.hmac_secret)
    assert api.http.post(f"/webhook/?hmac={signature}", json=body).status_code == 200
    return transaction_id
