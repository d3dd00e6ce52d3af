"""`shop serve` as an operator watches it: JSON log lines, metrics summed over both
workers, and nothing secret in the logs of a whole customer journey."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from shop_web.cli import main
from tests.ports import free_port, wait_until_healthy

PASSWORD = "a-long-and-secret-passphrase-42"
JWT_SECRET = "serve-test-jwt-secret-0123456789abcdef-0123"
HMAC_SECRET = "serve-test-hmac-secret-7f3a"
METRICS_TOKEN = "serve-test-metrics-token-9c1e"
CARD_PAN = "5123456789012346"
ORDERS = 12


class Served:
    def __init__(self, base: str, log: Path) -> None:
        self.base = base
        self.log = log


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/shop.db",
           "SHOP_ENV": "development", "PASSWORD_HASH_PROFILE": "cheap",
           "SHOP_INSTANCE_PATH": str(tmp_path / "instance"), "LOG_FORMAT": "json",
           "JWT_SECRET_KEY": JWT_SECRET, "PAYMOB_HMAC_SECRET": HMAC_SECRET,
           "METRICS_TOKEN": METRICS_TOKEN, "PUBLIC_BASE_URL": base,
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    env.pop("REDIS_URL", None)
    for args in (["db", "upgrade"], ["seed-demo"]):
        assert CliRunner().invoke(main, args, env=env).exit_code == 0
    shop = shutil.which("shop", path=str(Path(sys.executable).parent)) or "shop"
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen([shop, "serve", "--port", str(port), "--workers", "2"],
                                  env=env, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        try:
            wait_until_healthy(base, server, log_path, timeout=30)
            yield Served(base, log_path)
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
            server.wait(15)


def _journey(base: str) -> tuple[list[str], set[str]]:
    """Register, sign in, browse, order (each on a new connection, so the kernel spreads
    them over the workers), pay or decline at the sandbox checkout, and come back from it.
    Returns the secrets the shop handed out."""
    api = f"{base}/api/v1"
    assert requests.post(f"{api}/register/", timeout=10, json={
        "username": "amira", "email": "amira@example.com", "password": PASSWORD,
    }).status_code == 201
    tokens = requests.post(f"{api}/token/", timeout=10, json={
        "username": "amira", "password": PASSWORD}).json()
    assert requests.post(f"{api}/token/", timeout=10, json={
        "username": "amira", "password": PASSWORD + "-wrong"}).status_code == 401
    auth = {"Authorization": f"Bearer {tokens['access']}"}
    catalogue = requests.get(f"{api}/products/", timeout=10).json()["results"]
    product = max(catalogue, key=lambda item: item["stock"])["id"]
    secrets = {tokens["access"], tokens["refresh"]}
    for number in range(ORDERS):
        order = requests.post(f"{api}/orders/", headers=auth, timeout=10, json={
            "cart_items": [{"product_id": product, "quantity": 1}]}).json()
        client_secret = parse_qs(urlsplit(order["payment_url"]).query)["clientSecret"][0]
        secrets.add(client_secret)
        checkout = order["payment_url"]
        action = "pay" if number % 3 else "decline"
        assert requests.post(checkout, timeout=10, data={
            "clientSecret": client_secret, "action": action}).status_code == 200
    forged = requests.post(f"{base}/webhook/?hmac=forged", timeout=10,
                           json={"type": "TRANSACTION", "obj": {"id": 1}})
    assert forged.status_code == 401
    requests.get(f"{base}/payment/return/", timeout=10, params={
        "merchant_order_id": "shop-1", "source_data.pan": CARD_PAN, "hmac": "0" * 128})
    return [tokens["access"]], secrets


def _samples(base: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = requests.get(f"{base}/metrics", timeout=10,
                        headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_serve_counts_over_both_workers_and_logs_json_without_secrets(served: Served) -> None:
    _, secrets = _journey(served.base)
    paid, declined = ORDERS - len(range(0, ORDERS, 3)), len(range(0, ORDERS, 3))
    deadline = time.monotonic() + 15  # the sandbox delivers its callbacks from a thread
    while True:
        # A new connection per scrape: whichever worker answers, it sums both.
        samples = _samples(served.base)
        callbacks = samples.get(("shop_payment_callbacks_total",
                                 frozenset({("outcome", "paid")})), 0)
        if callbacks == paid or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    def orders(event: str) -> float:
        return samples.get(("shop_orders_total", frozenset({("event", event)})), 0)

    assert (orders("placed"), orders("paid"), orders("declined")) == (ORDERS, paid, declined)
    assert samples[("shop_payment_callbacks_total",
                    frozenset({("outcome", "bad_signature")}))] == 1
    assert samples[("shop_stock_units_total", frozenset({("movement", "reserved")}))] == ORDERS
    assert requests.get(f"{served.base}/metrics", timeout=5).status_code == 401

    lines = [line for line in served.log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {"time", "level", "logger", "message"} <= set(records[0])
    placing = {re.search(r"pid=<(\d+)>", r["message"]).group(1)  # type: ignore[union-attr]
               for r in records if '"POST /api/v1/orders/ ' in r["message"]}
    assert len(placing) == 2, "the orders should have been spread over both workers"
    assert any(r.get("transaction_id") and r.get("order_id") for r in records)
    everything = served.log.read_text()
    for secret in (PASSWORD, JWT_SECRET, HMAC_SECRET, METRICS_TOKEN, CARD_PAN, *secrets):
        assert secret not in everything
