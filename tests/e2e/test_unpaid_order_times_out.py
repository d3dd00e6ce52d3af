"""`make run`'s embedded expiry: with no Redis, the server itself times out unpaid orders."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from .conftest import first_product_in_stock, register_customer, running_shop

TIMEOUT_SECONDS = 3


def test_unpaid_order_times_out_within_seconds_of_its_deadline(tmp_path: Path) -> None:
    with running_shop(tmp_path, ORDER_PAYMENT_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS)) as base:
        auth = register_customer(base)
        product = first_product_in_stock(base)
        placed = requests.post(f"{base}/api/v1/orders/", headers=auth, timeout=10, json={
            "cart_items": [{"product_id": product["id"], "quantity": 1}]})
        assert placed.status_code == 201, placed.text
        order_url = f"{base}/api/v1/orders/{placed.json()['id']}/"
        deadline = time.monotonic() + TIMEOUT_SECONDS
        status = "pending"
        while status == "pending" and time.monotonic() < deadline + 8:
            time.sleep(0.25)
            status = requests.get(order_url, headers=auth, timeout=10).json()["status"]
        assert status == "timeout"
        assert time.monotonic() >= deadline - 0.5  # not before its time
        restocked = requests.get(f"{base}/api/v1/products/{product['id']}/", timeout=10)
        assert restocked.json()["stock"] == product["stock"]
