"""Faults injected into the shop's own processes under a steady order load.

`shop serve` (two gunicorn workers), `shop worker` and `shop scheduler` run on a PostgreSQL
and a Redis of this test's own while shoppers place orders and pay for half of them. One
after another: a web worker is killed, the RQ worker is killed and started again, Redis is
stopped and started empty, PostgreSQL is stopped (immediate) and started, and the whole
gunicorn is killed and started again. Then: stock is conserved, no order is pending past its
deadline plus one sweep interval, every acknowledged payment is paid, nothing answered 5xx
outside the fault windows, every process is still running, and each recovery was quick."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
import requests
import sqlalchemy as sa
from attrs import define, field
from rq import Worker

from shop_adapters.jobs.worker import scheduling_lock_key
from shop_adapters.paymob.sandbox import build_transaction_callback
from shop_adapters.sqlalchemy.migrate import upgrade
from shop_adapters.sqlalchemy.tables import order_lines, orders, products
from shop_core.errors import ShopError
from shop_core.money import Money
from shop_core.use_cases.catalogue import ProductDetails
from shop_core.use_cases.ordering import get_order
from shop_web.bootstrap import Shop, build_shop
from shop_web.config import Settings
from tests.ports import free_port, wait_until_healthy
from tests.servers import OwnPostgres, OwnRedis

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

SWEEP_SECONDS = 2.0
ORDER_SECONDS = 4
RECOVERY_SECONDS = 10.0  # each recovery must be quicker than this
STOCK = 100_000
HMAC_SECRET = "fault-test-hmac-secret"
PASSWORD = "a-long-and-secret-passphrase-42"
SHOPPERS = 4


@define
class Reply:
    started: float
    finished: float
    status: int  # 0: no answer at all


@define
class Processes:
    env: dict[str, str]
    base: str
    logs: Path
    running: dict[str, subprocess.Popen[bytes]] = field(factory=dict)

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        shop = shutil.which("shop", path=str(Path(sys.executable).parent)) or "shop"
        with (self.logs / f"{name}.log").open("a") as log:
            process = subprocess.Popen([shop, *args], env=self.env, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.running[name] = process
        return process

    def kill(self, name: str) -> None:
        process = self.running[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")


@define
class Load:
    """Shoppers placing one-unit orders, paying for every other one with a signed callback
    (as Paymob would send it), until stopped."""

    base: str
    auth: dict[str, str]
    product_ids: list[int]
    payer: Shop
    replies: list[Reply] = field(factory=list)
    acknowledged: set[int] = field(factory=set)  # orders whose payment the webhook took
    outcomes: dict[int, str] = field(factory=dict)
    stop: threading.Event = field(factory=threading.Event)

    def run(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._shop, args=(n,), daemon=True)
                   for n in range(SHOPPERS)]
        for thread in threads:
            thread.start()
        return threads

    def first_order_after(self, moment: float) -> float | None:
        placed = [r.finished for r in list(self.replies)
                  if r.status == 201 and r.started >= moment]
        return min(placed) if placed else None

    def _shop(self, shopper: int) -> None:
        session = requests.Session()
        n = 0
        while not self.stop.is_set():
            n += 1
            product = self.product_ids[(shopper + n) % len(self.product_ids)]
            reply, body = self._post(session, "/api/v1/orders/", headers=self.auth, json={
                "cart_items": [{"product_id": product, "quantity": 1}]})
            if reply.status == 201 and n % 2 == 0:
                self._pay(session, int(str(body["id"])))
            time.sleep(0.05)

    def _pay(self, session: requests.Session, order_id: int) -> None:
        try:
            order = get_order(self.payer.reader(), order_id, user_id=None)
        except ShopError:
            return  # the database is down: this shopper does not pay
        body, signature = build_transaction_callback(
            order, success=True, transaction_id=order_id, settings=self.payer.paymob,
            now=datetime.now(UTC))
        reply, answer = self._post(session, f"/webhook/?hmac={signature}", json=body)
        if reply.status == 200:
            self.acknowledged.add(order_id)
            self.outcomes[order_id] = str(answer.get("outcome"))

    def _post(self, session: requests.Session, path: str,
              **kwargs: object) -> tuple[Reply, dict[str, object]]:
        started = time.monotonic()
        try:
            response = session.post(f"{self.base}{path}", timeout=10, **kwargs)  # type: ignore[arg-type]
            status, body = response.status_code, (response.json() if response.content else {})
        except (requests.RequestException, ValueError):
            status, body = 0, {}
        reply = Reply(started, time.monotonic(), status)
        self.replies.append(reply)
        return reply, body


@pytest.fixture
def postgres() -> Iterator[OwnPostgres]:
    server = OwnPostgres()
    server.init()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _until(condition: Callable[[], object], seconds: float = 30.0) -> float:
    """Wait for `condition`; return when it first held (time.monotonic)."""
    give_up = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < give_up, "the shop did not recover in time"
        time.sleep(0.05)
    return time.monotonic()


def _answers_201(load: Load, after: float) -> Callable[[], bool]:
    return lambda: load.first_order_after(after) is not None


def test_the_shop_survives_its_dependencies_failing(postgres: OwnPostgres, own_redis: OwnRedis,
                                                    tmp_path: Path) -> None:
    upgrade(postgres.url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SHOP_ENV": "development", "DATABASE_URL": postgres.url,
           "REDIS_URL": own_redis.url, "PUBLIC_BASE_URL": base, "PORT": str(port),
           "PAYMOB_HMAC_SECRET": HMAC_SECRET, "PASSWORD_HASH_PROFILE": "cheap",
           "ORDER_PAYMENT_TIMEOUT_SECONDS": str(ORDER_SECONDS),
           "EXPIRY_SWEEP_INTERVAL_SECONDS": str(SWEEP_SECONDS),
           "SHOP_INSTANCE_PATH": str(tmp_path / "instance"), "RATE_LIMIT_AUTH": "1000/minute"}
    payer = build_shop(Settings.from_env({**env, "REDIS_URL": ""}))
    product_ids = [payer.catalogue.create(_product(n)).id or 0 for n in range(3)]
    shop = Processes(env, base, tmp_path)
    load = Load(base, {}, product_ids, payer)
    faults: list[tuple[str, float, float]] = []  # what, when it began, when it was over
    recoveries: dict[str, float] = {}
    queue = redis.Redis.from_url(own_redis.url, socket_connect_timeout=1, socket_timeout=2)
    try:
        shop.start("serve", "serve", "--workers", "2")
        shop.start("worker", "worker")
        shop.start("scheduler", "scheduler")
        wait_until_healthy(base, shop.running["serve"], tmp_path / "serve.log")
        load.auth = _sign_up(base)
        threads = load.run()
        time.sleep(3)

        # 1. One gunicorn worker dies; the master starts another.
        began = time.monotonic()
        os.kill(_web_workers(shop.running["serve"].pid)[0], signal.SIGKILL)
        recoveries["web worker killed"] = _until(_answers_201(load, began)) - began
        faults.append(("web worker killed", began, began + recoveries["web worker killed"]))
        time.sleep(2)

        # 2. The RQ worker is killed and started again, as a supervisor would.
        began = time.monotonic()
        shop.kill("worker")
        restarted = shop.start("worker", "worker").pid
        recoveries["RQ worker restarted"] = _until(
            lambda: _rq_worker_pids(queue) >= {restarted}) - began
        time.sleep(2)

        # 3. Redis goes away for 8 s and comes back empty.
        began = time.monotonic()
        own_redis.stop()
        time.sleep(8)
        back = time.monotonic()
        own_redis.start()
        recoveries["Redis back empty"] = _until(
            lambda: _holds(queue, scheduling_lock_key("shop"))) - back
        faults.append(("Redis down", began, back + recoveries["Redis back empty"]))
        time.sleep(2)

        # 4. PostgreSQL stops at once for 5 s.
        began = time.monotonic()
        postgres.stop("immediate")
        time.sleep(5)
        back = time.monotonic()
        postgres.start()
        recoveries["PostgreSQL restarted"] = _until(_answers_201(load, back)) - back
        faults.append(("PostgreSQL down", began, back + recoveries["PostgreSQL restarted"]))
        time.sleep(2)

        # 5. The whole gunicorn is killed and started again.
        began = time.monotonic()
        shop.kill("serve")
        shop.start("serve", "serve", "--workers", "2")
        recoveries["gunicorn restarted"] = _until(_answers_201(load, began), 60) - began
        faults.append(("gunicorn down", began, began + recoveries["gunicorn restarted"]))
        time.sleep(2)

        load.stop.set()
        for thread in threads:
            thread.join(15)
        last_deadline = datetime.now(UTC) + timedelta(seconds=ORDER_SECONDS)
        time.sleep(ORDER_SECONDS + SWEEP_SECONDS + 2)

        print("\nRecovery after each fault (s):", {k: round(v, 1) for k, v in recoveries.items()})
        alive = {name: process.poll() is None for name, process in shop.running.items()}
        assert alive == {"serve": True, "worker": True, "scheduler": True}, alive
        assert all(seconds < RECOVERY_SECONDS for seconds in recoveries.values()), recoveries
        _assert_no_5xx_outside(faults, load.replies)
        _assert_books_balance(postgres.url, product_ids, load.acknowledged, last_deadline,
                              load.outcomes)
        assert subprocess.run([shutil.which("shop", path=str(Path(sys.executable).parent))
                               or "shop", "health"], env=env, capture_output=True,
                              timeout=30).returncode == 0
        assert "Traceback" not in shop.log("worker") + shop.log("scheduler"), (
            shop.log("worker") + shop.log("scheduler"))
    finally:
        load.stop.set()
        shop.stop_all()
        queue.close()
        payer.database.dispose()


def _product(n: int) -> ProductDetails:
    return ProductDetails(f"Product {n}", Money.parse("10.00", "EGP"), STOCK)


def _sign_up(base: str) -> dict[str, str]:
    requests.post(f"{base}/api/v1/register/", timeout=10, json={
        "username": "shopper", "email": "shopper@example.com", "password": PASSWORD})
    tokens = requests.post(f"{base}/api/v1/token/", timeout=10, json={
        "username": "shopper", "password": PASSWORD}).json()
    return {"Authorization": f"Bearer {tokens['access']}"}


def _web_workers(master: int) -> list[int]:
    """The gunicorn workers under `shop serve` (which execs into the gunicorn master)."""
    found = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    assert found.stdout.split(), "gunicorn has no workers"
    return [int(pid) for pid in found.stdout.split()]


def _rq_worker_pids(queue: redis.Redis) -> set[int]:
    try:
        return {worker.pid for worker in Worker.all(connection=queue) if worker.pid}
    except redis.RedisError:
        return set()


def _holds(queue: redis.Redis, key: str) -> bool:
    try:
        return bool(queue.exists(key))
    except redis.RedisError:
        return False


def _assert_no_5xx_outside(faults: list[tuple[str, float, float]], replies: list[Reply]) -> None:
    def during_a_fault(reply: Reply) -> bool:
        return any(began <= reply.finished and reply.started <= over + 1.0
                   for _, began, over in faults)

    failed = [r for r in replies if (r.status >= 500 or r.status == 0) and not during_a_fault(r)]
    assert not failed, failed
    assert sum(r.status == 201 for r in replies) > 100, "the load hardly ran"


def _assert_books_balance(url: str, product_ids: list[int], acknowledged: set[int],
                          last_deadline: datetime, outcomes: dict[int, str]) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            now = datetime.now(UTC)
            late = connection.execute(sa.select(sa.func.count()).where(
                orders.c.status == "pending",
                orders.c.expires_at < now - timedelta(seconds=SWEEP_SECONDS + 1))).scalar()
            assert late == 0, f"{late} orders pending past their deadline and a sweep"
            assert now > last_deadline
            held = dict(connection.execute(
                sa.select(order_lines.c.product_id, sa.func.sum(order_lines.c.quantity))
                .join(orders, orders.c.id == order_lines.c.order_id)
                .where(orders.c.status.in_(["pending", "success"]))
                .group_by(order_lines.c.product_id)).all())
            stock = dict(connection.execute(sa.select(products.c.id, products.c.stock)).all())
            for product_id in product_ids:
                assert stock[product_id] + held.get(product_id, 0) == STOCK, product_id
            paid = {row.id: (row.status, row.needs_refund) for row in connection.execute(
                sa.select(orders.c.id, orders.c.status, orders.c.needs_refund)
                .where(orders.c.id.in_(acknowledged)))}
            unpaid = {order_id: (paid.get(order_id), outcomes.get(order_id))
                      for order_id in acknowledged
                      if paid.get(order_id) != ("success", False)}
            assert acknowledged and not unpaid, unpaid
    finally:
        engine.dispose()
