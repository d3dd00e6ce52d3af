"""The newcomer's story end to end: a real server, a real browser, the sandbox checkout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from .conftest import first_product_in_stock, register_customer

pytestmark = pytest.mark.browser


def _checkout(base: str, browser: Any, action: str, screenshot: Path) -> tuple[dict[str, Any],
                                                                                 int, int]:
    auth = register_customer(base)
    product = first_product_in_stock(base)
    placed = requests.post(f"{base}/api/v1/orders/", headers=auth, timeout=10, json={
        "cart_items": [{"product_id": product["id"], "quantity": 2}]})
    assert placed.status_code == 201, placed.text
    order = placed.json()
    page = browser.new_page()
    try:
        page.goto(order["payment_url"])
        assert order["total"] in page.inner_text("#total")
        page.screenshot(path=str(screenshot.with_name(f"{action}-checkout.png")))
        page.click(f"#{action}")
        expected = "success" if action == "pay" else "failed"
        page.wait_for_selector(f'#outcome[data-status="{expected}"]', timeout=20_000)
        page.screenshot(path=str(screenshot.with_name(f"{action}-outcome.png")))
    finally:
        page.close()
    settled = requests.get(f"{base}/api/v1/orders/{order['id']}/", headers=auth, timeout=10)
    stock_after = requests.get(f"{base}/api/v1/products/{product['id']}/", timeout=10).json()
    return settled.json(), product["stock"], stock_after["stock"]


def test_pressing_pay_in_the_sandbox_marks_the_order_paid(
        shop_server: str, browser: Any, output_dir: Path) -> None:
    order, stock_before, stock_after = _checkout(shop_server, browser, "pay",
                                                 output_dir / "sandbox.png")
    assert order["status"] == "success"
    assert stock_after == stock_before - 2


def test_pressing_decline_fails_the_order_and_restores_stock(
        shop_server: str, browser: Any, output_dir: Path) -> None:
    order, stock_before, stock_after = _checkout(shop_server, browser, "decline",
                                                 output_dir / "sandbox.png")
    assert order["status"] == "failed"
    assert stock_after == stock_before
