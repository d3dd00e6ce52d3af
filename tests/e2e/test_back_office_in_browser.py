"""A staff member's day in the back-office, in a real Chromium against `shop run-dev`:
signing in, finding an order paid in the sandbox and refunding part of it, cancelling a pending
order, creating a product and changing its stock.

With UPDATE_SCREENSHOTS=1 the dashboard and order screenshots also replace the README's
(docs/staff-dashboard.png, docs/staff-order.png)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from .conftest import first_product_in_stock, register_customer, running_shop

pytestmark = pytest.mark.browser

STAFF, PASSWORD = "clerk", "back-office-password"
DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A served shop with a staff member made the documented way, `shop create-admin`."""
    instance = tmp_path_factory.mktemp("instance")
    with running_shop(instance) as base:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PAYMOB_", "DATABASE_URL", "REDIS_URL", "SHOP_"))}
        made = subprocess.run(
            [str(Path(sys.executable).with_name("shop")), "create-admin", "--username", STAFF,
             "--email", "clerk@shop.test", "--password", PASSWORD],
            env={**env, "SHOP_INSTANCE_PATH": str(instance)}, capture_output=True, text=True,
            timeout=60, check=False)
        assert made.returncode == 0, made.stderr
        yield base


@pytest.fixture
def page(browser: Any, shop: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def sign_in(page: Any, base: str) -> None:
    page.goto(f"{base}/staff/")
    assert page.url.startswith(f"{base}/staff/sign-in")
    page.get_by_label("Username").fill(STAFF)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/staff/")


def screenshot(page: Any, output_dir: Path, name: str) -> None:
    path = output_dir / name
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(path, DOCS / name)


def paid_in_sandbox(shop: str, page: Any, quantity: int) -> dict[str, Any]:
    """An order a customer placed through the API and paid on the sandbox's checkout page."""
    auth = register_customer(shop)
    product = first_product_in_stock(shop)
    placed: dict[str, Any] = requests.post(f"{shop}/api/v1/orders/", headers=auth, timeout=10,
                                           json={"cart_items": [{"product_id": product["id"],
                                                                 "quantity": quantity}]}).json()
    page.goto(placed["payment_url"])
    page.click("#pay")
    page.wait_for_selector('#outcome[data-status="success"]', timeout=20_000)
    return placed


def test_signing_in_and_finding_an_order_paid_in_the_sandbox(shop: str, page: Any) -> None:
    placed = paid_in_sandbox(shop, page, 2)
    sign_in(page, shop)
    assert page.get_by_role("heading", name="Today").is_visible()
    page.get_by_role("link", name="Orders", exact=True).click()
    page.get_by_label("Order # or payment reference").fill(str(placed["id"]))
    page.get_by_label("Status").select_option("success")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name=f"#{placed['id']}").click()
    assert page.get_by_role("heading", name=f"Order #{placed['id']}").is_visible()
    assert "success" in page.inner_text("h1")
    ledger = page.locator("table[aria-describedby=ledger]").inner_text()
    assert "payment" in ledger and "succeeded" in ledger and placed["total"] in ledger
    page.get_by_role("link", name="Dashboard").click()
    assert "success" in page.locator("#today + table").inner_text()


def test_refunding_part_of_an_order_changes_its_ledger_and_the_dashboard(
        shop: str, page: Any, output_dir: Path) -> None:
    placed = paid_in_sandbox(shop, page, 2)
    sign_in(page, shop)
    given_back = page.inner_text("#back-today")
    page.goto(f"{shop}/staff/orders/{placed['id']}")
    page.get_by_role("link", name="Refund…").click()
    assert page.get_by_role("heading", name=f"Refund order #{placed['id']}?").is_visible()
    assert page.get_by_label(re.compile(r"^Amount")).input_value() == placed["total"]
    page.get_by_label(re.compile(r"^Amount")).fill("1.00")
    page.get_by_label("Reason").fill("Scuffed box")
    page.get_by_role("button", name="Refund").click()
    assert "Refund of 1.00 EGP done." in page.get_by_role("status").inner_text()
    rows = page.locator("table[aria-describedby=ledger] tbody tr").all_inner_texts()
    assert [row.split("\t")[1:4] for row in rows] == [
        ["payment", f"{placed['total']} EGP", "succeeded (paid)"],
        ["refund", "1.00 EGP", "succeeded"]]
    assert rows[1].split("\t")[5:] == [STAFF, "Scuffed box"]
    assert "refunded 1.00 EGP" in page.locator("dl.facts").inner_text()
    screenshot(page, output_dir, "staff-order.png")
    page.get_by_role("link", name="Dashboard").click()
    now = page.inner_text("#back-today")
    assert now != given_back and "refund" in now and "nothing" not in now
    screenshot(page, output_dir, "staff-dashboard.png")


def test_creating_a_product_changing_its_stock_and_reading_the_trail(
        shop: str, page: Any) -> None:
    sign_in(page, shop)
    page.get_by_role("link", name="Products").click()
    page.get_by_role("link", name="New product").click()
    page.get_by_label("Name").fill("Brass desk lamp")
    page.get_by_label("Description").fill("Warm light")
    page.get_by_label("Price (EGP)").fill("450.00")
    page.get_by_label("Opening stock").fill("3")
    page.get_by_role("button", name="Create product").click()
    assert page.get_by_role("heading", name="Brass desk lamp").is_visible()

    page.get_by_label("Number of units").fill("5")
    page.get_by_label("Reason").fill("Delivery from the workshop")
    page.get_by_role("button", name="Change stock").click()
    assert "Stock changed: 3 → 8." in page.get_by_role("status").inner_text()
    page.get_by_label("Remove units").check()
    page.get_by_label("Number of units").fill("1")
    page.get_by_label("Reason").fill("Scratched on arrival")
    page.get_by_role("button", name="Change stock").click()
    assert page.inner_text("#stock-now") == "7"
    trail = page.locator("table[aria-describedby=trail] tbody tr").all_inner_texts()
    assert [row.split("\t")[2:6] for row in trail] == [
        ["adjusted (-1)", "8", "7", "Scratched on arrival"],
        ["adjusted (+5)", "3", "8", "Delivery from the workshop"],
        ["opening stock (+3)", "0", "3", "—"],
    ]
    assert all(f"\t{STAFF}\t" in row for row in trail)
    public = requests.get(f"{shop}/api/v1/products/?search=Brass", timeout=10).json()
    assert public["results"][0]["stock"] == 7


def test_cancelling_a_pending_order_puts_its_stock_back(shop: str, page: Any) -> None:
    auth = register_customer(shop)
    product = first_product_in_stock(shop)
    placed = requests.post(f"{shop}/api/v1/orders/", headers=auth, timeout=10, json={
        "cart_items": [{"product_id": product["id"], "quantity": 1}]}).json()
    sign_in(page, shop)
    page.goto(f"{shop}/staff/products/{product['id']}")
    held = int(page.inner_text("#stock-now"))
    page.goto(f"{shop}/staff/orders/?status=pending")
    page.get_by_role("link", name=f"#{placed['id']}").click()
    page.get_by_role("link", name="Cancel the order…").click()
    assert page.get_by_role("heading", name=f"Cancel order #{placed['id']}?").is_visible()
    page.get_by_role("button", name="Cancel the order").click()
    assert "cancelled" in page.get_by_role("status").inner_text()
    assert "cancelled" in page.inner_text("h1")
    page.get_by_role("link", name=product["name"]).click()
    assert int(page.inner_text("#stock-now")) == held + 1
