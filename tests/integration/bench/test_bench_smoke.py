"""Keeps the benchmark code from rotting: its cheapest pieces, run once, untimed."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from bench import fake_paymob, floor_app, pg, report, servers
from bench.load import WRK_SCRIPT, LoadResult, _marked_json


def test_floor_app_answers_its_small_json_document() -> None:
    client = floor_app.create_app().test_client()

    response = client.get("/floor/")

    assert response.status_code == 200
    assert response.get_json() == floor_app.DOCUMENT


@pytest.fixture
def fake_paymob_base() -> object:
    server = fake_paymob.make_server(port=0, delay=0.01)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _intention_body() -> dict[str, object]:
    return {"amount": 2000, "currency": "EGP", "payment_methods": [4000001],
            "items": [{"name": "Mug", "amount": 1000, "quantity": 2}],
            "special_reference": "shop-1"}


def test_fake_paymob_answers_a_valid_intention_after_its_delay(
        fake_paymob_base: str) -> None:
    response = requests.post(
        f"{fake_paymob_base}/v1/intention/", json=_intention_body(), timeout=5,
        headers={"Authorization": f"Token {fake_paymob.SECRET_KEY}"})

    assert response.status_code == 201
    data = response.json()
    assert data["client_secret"] and data["id"] and data["special_reference"] == "shop-1"


def test_fake_paymob_refuses_string_amounts_like_paymob(fake_paymob_base: str) -> None:
    body = {**_intention_body(), "amount": "20.00"}

    response = requests.post(
        f"{fake_paymob_base}/v1/intention/", json=body, timeout=5,
        headers={"Authorization": f"Token {fake_paymob.SECRET_KEY}"})

    assert response.status_code == 400


def test_the_real_paymob_gateway_accepts_the_fake_servers_answer(
        fake_paymob_base: str) -> None:
    """The benchmark's slow-gateway scenario relies on this: the live adapter, unchanged,
    talking to the fake server."""
    from datetime import UTC, datetime, timedelta

    from shop_adapters.paymob.gateway import PaymobGateway
    from shop_adapters.paymob.references import client_secret
    from shop_adapters.paymob.settings import PaymobSettings
    from shop_core.accounts import User
    from shop_core.clock import SystemClock
    from shop_core.money import Money
    from shop_core.orders import OrderLine, new_order

    settings = PaymobSettings(secret_key=fake_paymob.SECRET_KEY, public_key="pk",
                              hmac_secret="h", integration_ids=(4000001,),
                              public_base_url="http://127.0.0.1:1", api_base=fake_paymob_base)
    now = datetime.now(UTC)
    order = new_order(1, [OrderLine(1, "Mug", Money(1000, "EGP"), 2)], now,
                      now + timedelta(minutes=10))
    order.id = 7
    customer = User(id=1, username="u", email="u@example.com", first_name="", last_name="",
                    is_staff=False, password_hash="x", date_joined=now)

    payment = PaymobGateway(settings, SystemClock()).create_intention(
        order, customer, order.expires_at)

    assert (client_secret(payment) or "").startswith("are_csk_test_")
    assert payment.checkout_url.startswith(f"{fake_paymob_base}/unifiedcheckout/?publicKey=pk")


def test_wrk_output_is_read_and_a_result_reports_rates() -> None:
    data = _marked_json("Running 1s test\nBENCHJSON {\"requests\": 10}\n")
    result = LoadResult(tool="wrk", concurrency=2, requests=10, ok=8, failed=2,
                        duration_s=2.0, p50_ms=1.0, p99_ms=2.0, client_cpu_s=0.5)

    assert data == {"requests": 10}
    assert "done = function" in WRK_SCRIPT
    assert result.rps == 4.0 and result.client_cores == 0.25


def test_a_summary_judges_each_target() -> None:
    results = {
        "reads": {"floor": [{"concurrency": 8, "rps": 1000.0}],
                  "postgres": [{"concurrency": 8, "rps": 400.0}],
                  "sqlite": [{"concurrency": 8, "rps": 200.0}]},
        "orders": {"points": [{"concurrency": 32, "rps": 150.0}]},
        "pgbench": [{"concurrency": 32, "tps": 500.0}],
        "delayed": {"points": [{"concurrency": 1, "rps": 4.0},
                               {"concurrency": 32, "rps": 100.0}]},
        "expiry": {"seconds": 3.0, "stock_restored_exactly": True},
        "memory": {"shop-postgres": {"rss_mb": [60.0, 90.0]}},
    }

    summary = report.summarize(results, {"catalogue_pg_vs_floor": 0.33,
                                         "catalogue_sqlite_vs_floor": 0.33,
                                         "orders_vs_pgbench": 0.25, "delay_32_vs_1": 10.0,
                                         "expiry_seconds": 10.0, "worker_rss_mb": 80.0})

    assert summary["catalogue_pg_vs_floor"]["verdict"] == "PASS"
    assert summary["catalogue_sqlite_vs_floor"]["verdict"] == "FAIL"
    assert summary["orders_vs_pgbench"]["verdict"] == "PASS"
    assert summary["delay_32_vs_1"]["verdict"] == "PASS"
    assert summary["expiry_seconds"]["verdict"] == "PASS"
    assert summary["worker_rss_mb"]["verdict"] == "FAIL"


def test_ratios_pair_the_figures_of_each_round_and_take_the_median() -> None:
    """The machine's speed drifts between rounds; a ratio only compares figures measured
    back to back, and one slow or fast round does not decide the verdict."""
    def reads(*rates: float) -> list[dict[str, Any]]:
        return [{"round": n, "concurrency": 8, "rps": rate} for n, rate in enumerate(rates)]

    results: dict[str, Any] = {
        # Neither the overall peaks (330 / 1000) nor the medians (250 / 600) would give
        # the median of the rounds' ratios.
        "reads": {"floor": reads(1000.0, 400.0, 600.0),
                  "postgres": reads(250.0, 200.0, 330.0),  # 0.25, 0.50, 0.55
                  "sqlite": reads(300.0, 100.0, 180.0)},  # 0.30, 0.25, 0.30
        "orders": {"points": [{"round": 0, "concurrency": 8, "rps": 100.0},
                              {"round": 0, "concurrency": 32, "rps": 100.0},
                              {"round": 1, "concurrency": 8, "rps": 300.0},
                              {"round": 1, "concurrency": 32, "rps": 100.0}]},
        "pgbench": [{"round": 0, "concurrency": 8, "tps": 500.0},  # 0.20, then 0.30
                    {"round": 0, "concurrency": 32, "tps": 200.0},  # 0.50, 0.50
                    {"round": 1, "concurrency": 8, "tps": 1000.0},
                    {"round": 1, "concurrency": 32, "tps": 200.0}],
    }
    targets = {"catalogue_pg_vs_floor": 0.33, "catalogue_sqlite_vs_floor": 0.33,
               "orders_vs_pgbench": 0.25, "delay_32_vs_1": 10.0, "expiry_seconds": 10.0,
               "worker_rss_mb": 80.0}

    summary = report.summarize(results, targets)

    pg_reads = summary["catalogue_pg_vs_floor"]
    assert (pg_reads["value"], pg_reads["rounds"], pg_reads["verdict"]) == (
        0.5, [0.25, 0.55], "PASS")
    assert summary["catalogue_sqlite_vs_floor"]["verdict"] == "FAIL"
    orders = summary["orders_vs_pgbench"]
    assert orders["per_concurrency"] == {"8": 0.25, "32": 0.5}
    assert (orders["value"], orders["rounds"], orders["verdict"]) == (0.25, [0.2, 0.3], "PASS")
    median = report.median_points(results["reads"]["postgres"])
    assert [(p["rps"], p["rounds"]) for p in median] == [(250.0, [250.0, 200.0, 330.0])]


def test_the_pgbench_script_runs_the_conditional_reservation() -> None:
    assert "stock >= 1" in pg.PGBENCH_SCRIPT and "INSERT INTO orders" in pg.PGBENCH_SCRIPT


def test_the_metrics_scrape_reads_the_order_counters() -> None:
    from bench import scrape
    from prometheus_client import REGISTRY, generate_latest

    from shop_web import metrics

    before = scrape.order_counters(generate_latest(REGISTRY).decode())
    metrics.ORDERS.labels("placed").inc(3)
    metrics.count_callback("paid")
    after = scrape.order_counters(generate_latest(REGISTRY).decode())

    assert after["placed"] - before["placed"] == 3
    assert after["paid"] - before["paid"] == 1
    assert after["callbacks_paid"] - before["callbacks_paid"] == 1


def test_the_shop_starts_under_the_benchs_gunicorn_settings_and_its_own_config(
        tmp_path: Path) -> None:
    """The benchmark starts gunicorn itself: the shop's configuration under its flags, with
    the metrics it scrapes after the order load, and no access log."""
    from shop_adapters.sqlalchemy.migrate import upgrade

    url = f"sqlite:///{tmp_path}/shop.db"
    upgrade(url)
    env = {**os.environ, "SHOP_ENV": "development", "DATABASE_URL": url,
           "SHOP_INSTANCE_PATH": str(tmp_path / "instance"), "GUNICORN_ACCESS_LOG": ""}
    env.pop("REDIS_URL", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process, base = servers.start_gunicorn(
        "shop", "shop_web.app:create_app()", env, str(tmp_path), tmp_path,
        config=servers.SHOP_CONFIG)
    try:
        assert requests.get(f"{base}/api/v1/products/", timeout=5).status_code == 200
        text = requests.get(f"{base}/metrics", timeout=5).text
    finally:
        process.stop()
    assert 'shop_http_request_duration_seconds_count{method="GET",route="/api/v1/products/"' \
        in text
    assert "/api/v1/products/" not in process.log_tail(20_000)  # no access log
