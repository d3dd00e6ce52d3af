"""`make run`'s embedded delivery: a receiver subscribed through the API hears of an order
placed, paid and refunded in the sandbox, signed, each event once, in order."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.receivers import Receiver

from .conftest import first_product_in_stock, register_customer, running_shop


def _create_admin(instance: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("SHOP_", "DATABASE"))},
           "SHOP_INSTANCE_PATH": str(instance)}
    subprocess.run([str(Path(sys.executable).with_name("shop")), "create-admin",
                    "--username", "boss", "--email", "boss@example.com",
                    "--password", "correct-horse-battery"], env=env, check=True,
                   capture_output=True, timeout=60)


def test_a_subscribed_receiver_sees_the_order_placed_paid_then_refunded(tmp_path: Path) -> None:
    with Receiver().running() as receiver, running_shop(tmp_path) as base:
        _create_admin(tmp_path)
        token = requests.post(f"{base}/api/v1/token/", timeout=10, json={
            "username": "boss", "password": "correct-horse-battery"}).json()["access"]
        created = requests.post(f"{base}/api/v1/webhooks/", timeout=10,
                                headers={"Authorization": f"Bearer {token}"},
                                json={"url": receiver.url,
                                      "events": ["order.placed", "order.paid",
                                                 "order.refunded"]})
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]

        auth = register_customer(base)
        product = first_product_in_stock(base)
        placed = requests.post(f"{base}/api/v1/orders/", headers=auth, timeout=10, json={
            "cart_items": [{"product_id": product["id"], "quantity": 1}]}).json()
        client_secret = placed["payment_url"].split("clientSecret=")[1]
        pressed = requests.post(f"{base}/sandbox/paymob/unifiedcheckout/", timeout=10,
                                data={"clientSecret": client_secret, "action": "pay"})
        assert pressed.status_code == 200

        _wait_for(receiver, 2)
        refunded = requests.post(f"{base}/api/v1/orders/{placed['id']}/refunds/", timeout=10,
                                 headers={"Authorization": f"Bearer {token}",
                                          "Idempotency-Key": "refund-1"}, json={})
        assert refunded.status_code == 201, refunded.text
        _wait_for(receiver, 3)
        # A second pass of the duty, and the sandbox's callback of the refund, send nothing more.
        time.sleep(2.5)
        delivered = receiver.delivered()
    assert [(r.event["type"], r.event["data"]["id"]) for r in delivered] == [
        ("order.placed", placed["id"]), ("order.paid", placed["id"]),
        ("order.refunded", placed["id"])]
    assert all(r.signed_with(secret) for r in delivered)
    assert delivered[1].event["data"]["status"] == "success"
    assert delivered[2].event["data"]["status"] == "refunded"
    assert delivered[2].event["data"]["amount"] == placed["total"]


def _wait_for(receiver: Receiver, count: int) -> None:
    deadline = time.monotonic() + 20
    while len(receiver.delivered()) < count and time.monotonic() < deadline:
        time.sleep(0.2)
