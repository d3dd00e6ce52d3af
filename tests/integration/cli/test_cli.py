"""The `shop` command as an operator uses it, on a real SQLite database."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner, Result

from shop_adapters.paymob.sandbox import build_transaction_callback
from shop_core.catalogue import ProductQuery
from shop_core.money import Money
from shop_core.orders import CartLine, OrderStatus
from shop_core.testing import FakeExpiryScheduler, FakePaymentGateway
from shop_core.use_cases.accounts import Registration
from shop_core.use_cases.cancelling import CancelOrder
from shop_core.use_cases.catalogue import ProductDetails, list_products
from shop_core.use_cases.ordering import OrderingServices, PlaceOrder, place_order
from shop_web.bootstrap import Shop, build_shop, sandbox_ledger
from shop_web.cli import DEMO_PRODUCTS, main
from shop_web.config import Settings
from tests.ports import free_port, wait_until_healthy


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{tmp_path}/shop.db", "SHOP_ENV": "development",
            "PASSWORD_HASH_PROFILE": "cheap"}


def shop_command(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, input=stdin)


def the_shop(env: dict[str, str]) -> Shop:
    return build_shop(Settings.from_env(env))


def test_db_upgrade_creates_the_schema_from_nothing(env: dict[str, str]) -> None:
    result = shop_command(env, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    assert shop_command(env, "db", "upgrade").exit_code == 0  # and again, harmlessly


def test_create_admin_with_flags_makes_a_staff_user(env: dict[str, str]) -> None:
    shop_command(env, "db", "upgrade")
    result = shop_command(env, "create-admin", "--username", "root", "--email",
                          "root@example.com", "--password", "a-strong-passphrase")
    assert result.exit_code == 0, result.output
    with the_shop(env).uow() as uow:
        admin = uow.users.get_by_username("root")
    assert admin is not None and admin.is_staff


def test_create_admin_prompts_for_what_is_missing(env: dict[str, str]) -> None:
    shop_command(env, "db", "upgrade")
    result = shop_command(env, "create-admin", stdin="boss\nboss@example.com\n"
                          "a-strong-passphrase\na-strong-passphrase\n")
    assert result.exit_code == 0, result.output
    with the_shop(env).uow() as uow:
        assert uow.users.get_by_username("boss") is not None


@pytest.mark.parametrize("password", ["short", "12345678901", "weakadmin"])
def test_create_admin_refuses_weak_passwords(env: dict[str, str], password: str) -> None:
    shop_command(env, "db", "upgrade")
    result = shop_command(env, "create-admin", "--username", "weakadmin", "--email",
                          "w@example.com", "--password", password)
    assert result.exit_code != 0
    assert "password" in result.output
    with the_shop(env).uow() as uow:
        assert uow.users.get_by_username("weakadmin") is None


def test_seed_demo_adds_products_once(env: dict[str, str]) -> None:
    shop_command(env, "db", "upgrade")
    first = shop_command(env, "seed-demo")
    second = shop_command(env, "seed-demo")
    assert f"Added {len(DEMO_PRODUCTS)} demo products" in first.output
    assert "Added 0 demo products" in second.output
    page = list_products(the_shop(env).uow(), ProductQuery())
    assert page.count == len(DEMO_PRODUCTS)


def test_expire_orders_times_out_overdue_orders_and_says_how_many(env: dict[str, str]) -> None:
    shop_command(env, "db", "upgrade")
    shop_command(env, "seed-demo")
    shop = the_shop(env)
    shop_command(env, "create-admin", "--username", "buyer", "--email", "b@example.com",
                 "--password", "a-strong-passphrase")
    with shop.uow() as uow:
        buyer = uow.users.get_by_username("buyer")
    assert buyer is not None and buyer.id is not None
    product = list_products(shop.uow(), ProductQuery()).items[0]
    assert product.id is not None
    # Placed with a deadline already in the past.
    services = OrderingServices(gateway=FakePaymentGateway(), scheduler=FakeExpiryScheduler(),
                                clock=shop.clock, payment_timeout=timedelta(seconds=-1))
    order = place_order(shop.uow(), services, PlaceOrder(buyer.id, (CartLine(product.id, 2),)))
    result = shop_command(env, "expire-orders")
    assert result.exit_code == 0, result.output
    assert "Expired 1 orders." in result.output
    with shop.uow() as uow:
        expired = uow.orders.get(order.id or 0)
        restored = uow.products.get(product.id)
    assert expired is not None and expired.status is OrderStatus.TIMEOUT
    assert restored is not None and restored.stock == product.stock


def test_worker_without_redis_says_why_it_cannot_run(env: dict[str, str]) -> None:
    result = shop_command(env, "worker", "--burst")
    assert result.exit_code != 0
    assert "REDIS_URL" in result.output


def test_production_refuses_to_start_without_real_secrets(env: dict[str, str]) -> None:
    production = {**env, "SHOP_ENV": "production", "PASSWORD_HASH_PROFILE": "strong"}
    result = shop_command(production, "expire-orders")
    assert result.exit_code != 0
    assert "JWT_SECRET_KEY" in result.output


def test_serve_runs_the_api_under_gunicorn(env: dict[str, str], tmp_path: Path) -> None:
    """`shop serve` as production runs it: gunicorn, two threaded workers, each on its own
    socket (SO_REUSEPORT; `make bench` shows the load spreading over them), and an access
    log line per request."""
    shop_command(env, "db", "upgrade")
    shop_command(env, "seed-demo")
    port = free_port()
    shop = shutil.which("shop", path=str(Path(sys.executable).parent)) or "shop"
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [shop, "serve", "--port", str(port), "--workers", "2", "--threads", "2"],
        env={**os.environ, **env, "SHOP_INSTANCE_PATH": str(tmp_path / "instance")},
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_healthy(base, server, tmp_path / "serve.log", timeout=30)
        for _ in range(20):  # a new connection each time: the kernel picks the worker
            page = requests.get(f"{base}/api/v1/products/", timeout=5)
            assert page.status_code == 200 and page.json()["count"] == len(DEMO_PRODUCTS)
        requests.get(f"{base}/api/v1/products/?page_size=2", timeout=5,
                     headers={"X-Request-ID": "serve-test-1"})
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(15)
        log.close()
    logged = (tmp_path / "serve.log").read_text()
    assert logged.count("Booting worker") == 2
    # The access log: one line per request, with its status, duration and request id.
    [line] = [line for line in logged.splitlines() if "request_id=serve-test-1" in line]
    assert '"GET /api/v1/products/ HTTP/1.1" 200' in line  # never the query string
    assert re.search(r" \d+us pid=<\d+> request_id=", line), line


@pytest.mark.redis
def test_health_says_what_the_background_processes_lack(env: dict[str, str],
                                                        redis_url: str) -> None:
    assert shop_command(env, "db", "upgrade").exit_code == 0
    queue_env = {**env, "REDIS_URL": redis_url}

    nobody_schedules = shop_command(queue_env, "health")
    assert nobody_schedules.exit_code == 1
    assert "database: ok" in nobody_schedules.output
    assert "redis: ok" in nobody_schedules.output
    assert "no process holds the scheduling duty" in nobody_schedules.output

    no_redis = shop_command({**env, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"},
                            "health")
    assert no_redis.exit_code == 1 and "redis: unreachable" in no_redis.output

    embedded = shop_command(env, "health")  # no queue: nothing but the database to need
    assert embedded.exit_code == 0 and "redis: not configured" in embedded.output


def test_reconcile_finds_a_sandbox_payment_whose_callback_never_came(
        env: dict[str, str], tmp_path: Path) -> None:
    env = {**env, "SHOP_INSTANCE_PATH": str(tmp_path)}
    shop_command(env, "db", "upgrade")
    shop = the_shop(env)
    mug = shop.catalogue.create(ProductDetails("Mug", Money.parse("50.00", "EGP"), 5))
    shop.accounts.register(Registration("buyer", "buyer@example.com", "a-strong-pass"))
    placed = shop.orders.place(PlaceOrder(1, (CartLine(mug.id or 0, 2),)))
    shop.orders.cancel(CancelOrder(placed.id or 0, 1))
    body, _ = build_transaction_callback(placed, success=True, transaction_id=424242,
                                         settings=shop.paymob, now=shop.clock.now())
    sandbox_ledger(shop.settings).record(body["obj"])  # paid at the sandbox's Paymob

    result = shop_command(env, "reconcile", "--since", "1h")

    assert result.exit_code == 0, result.output
    assert "Asked about 1 orders: 1 changed" in result.output
    with shop.uow() as uow:
        order = uow.orders.get(placed.id or 0)
        product = uow.products.get(mug.id or 0)
    assert order is not None and order.status is OrderStatus.SUCCESS
    assert product is not None and product.stock == 3
    again = shop_command(env, "reconcile", "--since", "1h")
    assert "Asked about 0 orders" in again.output


@pytest.mark.parametrize("since", ["24", "h", "0h", "-1h", "1w"])
def test_reconcile_refuses_a_duration_it_cannot_read(env: dict[str, str], since: str) -> None:
    result = shop_command(env, "reconcile", "--since", since)
    assert result.exit_code == 2 and "--since" in result.output


def test_reconcile_in_live_mode_needs_the_api_key(env: dict[str, str]) -> None:
    live = {**env, "PAYMOB_MODE": "live", "PAYMOB_SECRET_KEY": "egy_sk_test_x",
            "PAYMOB_PUBLIC_KEY": "egy_pk_test_x", "PAYMOB_HMAC_SECRET": "h",
            "PAYMOB_INTEGRATION_IDS": "1"}
    shop_command(live, "db", "upgrade")
    result = shop_command(live, "reconcile")
    assert result.exit_code == 1 and "PAYMOB_API_KEY" in result.output

