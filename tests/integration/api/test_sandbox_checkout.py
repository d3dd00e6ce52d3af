"""The sandbox checkout over real HTTP: the page, the buttons, and the callback it delivers
to the shop's own `/webhook/` from a background thread, as Paymob would."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from shop_adapters.sqlalchemy.migrate import upgrade
from shop_core.money import Money
from shop_core.use_cases.catalogue import ProductDetails, create_product
from shop_web.app import create_app
from shop_web.bootstrap import Shop
from tests.ports import free_port

from .conftest import JWT_SECRET, PASSWORD


@pytest.fixture
def served(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[str, Shop]]:
    """The whole app on a real port, one request at a time like one sync gunicorn worker."""
    upgrade(sqlite_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app({"SHOP_ENV": "test", "DATABASE_URL": sqlite_url, "PUBLIC_BASE_URL": base,
                      "JWT_SECRET_KEY": JWT_SECRET, "PASSWORD_HASH_PROFILE": "cheap",
                      "SHOP_INSTANCE_PATH": str(tmp_path)})
    server = make_server("127.0.0.1", port, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    shop: Shop = app.extensions["shop"]
    yield base, shop
    server.shutdown()
    thread.join(5)
    shop.database.dispose()


def _place_order(base: str, shop: Shop, stock: int) -> tuple[dict[str, Any], dict[str, str],
                                                              int]:
    product = create_product(shop.uow(), shop.clock,
                             ProductDetails("Lamp", Money.parse("50.00", "EGP"), stock))
    requests.post(f"{base}/api/v1/register/", timeout=5, json={
        "username": "buyer", "email": "buyer@example.com", "password": PASSWORD})
    token = requests.post(f"{base}/api/v1/token/", timeout=5,
                          json={"username": "buyer", "password": PASSWORD}).json()["access"]
    auth = {"Authorization": f"Bearer {token}"}
    placed = requests.post(f"{base}/api/v1/orders/", headers=auth, timeout=5, json={
        "cart_items": [{"product_id": product.id, "quantity": 3}]})
    assert placed.status_code == 201, placed.text
    return placed.json(), auth, product.id or 0


def _settled_status(base: str, order: dict[str, Any], auth: dict[str, str]) -> str:
    deadline = time.monotonic() + 10
    status = "pending"
    while status == "pending" and time.monotonic() < deadline:
        time.sleep(0.1)
        status = requests.get(f"{base}/api/v1/orders/{order['id']}/", headers=auth,
                              timeout=5).json()["status"]
    return str(status)


@pytest.mark.parametrize(("button", "expected", "stock_after"), [
    ("pay", "success", 7), ("decline", "failed", 10)])
def test_sandbox_button_settles_the_order_through_the_webhook(
        served: tuple[str, Shop], button: str, expected: str, stock_after: int) -> None:
    base, shop = served
    order, auth, product_id = _place_order(base, shop, stock=10)
    assert order["payment_url"].startswith(f"{base}/sandbox/paymob/unifiedcheckout/?")
    page = requests.get(order["payment_url"], timeout=5)
    assert page.status_code == 200
    assert "Sandbox" in page.text and order["total"] in page.text
    secret = order["payment_url"].split("clientSecret=")[1]
    pressed = requests.post(f"{base}/sandbox/paymob/unifiedcheckout/", timeout=5,
                            data={"clientSecret": secret, "action": button})
    assert pressed.status_code == 200  # the outcome page, after the redirect
    assert _settled_status(base, order, auth) == expected
    product = requests.get(f"{base}/api/v1/products/{product_id}/", timeout=5).json()
    assert product["stock"] == stock_after
    assert f'data-status="{expected}"' in requests.get(pressed.url, timeout=5).text


def test_sandbox_page_refuses_a_client_secret_it_did_not_issue(
        served: tuple[str, Shop]) -> None:
    base, shop = served
    order, _, _ = _place_order(base, shop, stock=10)
    assert requests.get(order["payment_url"][:-4] + "AAAA", timeout=5).status_code == 404
    assert requests.get(f"{base}/sandbox/paymob/unifiedcheckout/?clientSecret=x",
                        timeout=5).status_code == 404
