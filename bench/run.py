"""The whole benchmark run: start everything, measure, check, stop everything, report."""

from __future__ import annotations

import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from bench import pg, report, scrape, servers
from bench.load import LoadResult, LoadTool, find_wrk

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

CATALOGUE_PATH = "/api/v1/products/?page_size=20"
CATALOGUE_CONCURRENCY = (1, 8, 32)
ORDER_CONCURRENCY = (8, 32)
DELAY_CONCURRENCY = (1, 8, 32)
GATEWAY_DELAY = 0.2
CATALOGUE_PRODUCTS = 200
USERS = 64
SELLOUT_UNITS = 100
PAID_ORDERS = 10  # paid at the sandbox checkout after the order load, for the scrape
EXPIRY_ORDERS = 100_000
EXPIRY_PRODUCTS = 200
# Seconds per measured point, after a short warm-up at the same concurrency. Reads and
# orders are measured in rounds and judged on the median ratio (see bench/report.py).
ROUNDS = 3
READ_SECONDS = 3
ORDER_SECONDS = 4
DELAY_SECONDS = 8
WARMUP_SECONDS = 1
SETTLE_SECONDS = 2
# Redis database the run may use; used only when empty, and emptied afterwards.
REDIS_DB = 13
PASSWORD = "bench-password-0123"

# Targets: (label, ratio key, threshold).
TARGETS = {
    "catalogue_pg_vs_floor": 0.33,
    "catalogue_sqlite_vs_floor": 0.33,
    "orders_vs_pgbench": 0.25,
    "delay_32_vs_1": 10.0,
    "expiry_seconds": 10.0,
    "worker_rss_mb": 80.0,
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Run:
    def __init__(self) -> None:
        self.started = time.monotonic()
        self.workdir = Path(tempfile.mkdtemp(prefix="shop-bench-"))
        self.logdir = self.workdir / "logs"
        self.logdir.mkdir()
        self.processes: list[servers.Process] = []
        self.results: dict[str, Any] = {"notes": [], "errors": []}
        self.tool = LoadTool(find_wrk(log))
        self.results["load_tool"] = self.tool.name
        self.pg_db = ""
        self.redis_url: str | None = None

    # -- environment --------------------------------------------------------------------

    def shop_env(self, database_url: str, port: int, **extra: str) -> dict[str, str]:
        """The shop's environment: development mode (production refuses the sandbox and a
        development JWT secret), a random JWT secret, limits raised for the load."""
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("PAYMOB_", "SHOP_", "JWT_", "RATE_LIMIT"))
               and key not in ("DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL", "PORT")}
        env.update({
            "SHOP_ENV": "development",
            "SHOP_INSTANCE_PATH": str(self.workdir / "instance"),
            "DATABASE_URL": database_url,
            "JWT_SECRET_KEY": self.jwt_secret,
            "JWT_ACCESS_TOKEN_SECONDS": "3600",
            "RATE_LIMIT_AUTH": "100000/minute",
            # No order may time out while the run lasts: the checks count reservations.
            "ORDER_PAYMENT_TIMEOUT_SECONDS": "3600",
            "PORT": str(port),
            "GUNICORN_ACCESS_LOG": "",  # no access log: it would measure the log pipe
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(
                os.pathsep),
        })
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        env.update(extra)
        return env

    jwt_secret = secrets.token_urlsafe(48)

    def start_shop(self, name: str, database_url: str, **extra: str) -> tuple[servers.Process,
                                                                                str]:
        port = servers.free_port()
        env = self.shop_env(database_url, port, **extra)
        process, base = servers.start_gunicorn_on(name, "shop_web.app:create_app()", env,
                                                  str(ROOT), self.logdir, port,
                                                  config=servers.SHOP_CONFIG)
        self.processes.append(process)
        return process, base

    def stop(self, process: servers.Process) -> None:
        process.stop()
        if process in self.processes:
            self.processes.remove(process)

    def shop_command(self, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
        env = self.shop_env(database_url, 8000)
        env.pop("REDIS_URL", None)
        shop = Path(sys.executable).with_name("shop")
        command = [str(shop)] if shop.exists() else [sys.executable, "-m", "shop_web.cli"]
        return subprocess.run([*command, *args], env=env, cwd=str(ROOT), capture_output=True,
                              text=True, timeout=300, check=False)

    def choose_redis(self) -> None:
        try:
            import redis

            client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB,
                                 socket_connect_timeout=1)
            if client.dbsize() == 0:
                self.redis_url = f"redis://127.0.0.1:6379/{REDIS_DB}"
                log(f"Redis: expiry jobs go to {self.redis_url} (emptied afterwards)")
                return
            self.note(f"Redis db {REDIS_DB} is not empty; the shop runs without Redis "
                      "(in-process expiry sweep)")
        except Exception as error:  # noqa: BLE001 - any failure means: no Redis
            self.note(f"Redis unavailable ({type(error).__name__}); the shop runs without it")

    def cleanup_redis(self) -> None:
        if self.redis_url:
            import redis

            redis.Redis.from_url(self.redis_url).flushdb()

    def note(self, text: str) -> None:
        log(text)
        self.results["notes"].append(text)

    # -- measuring ------------------------------------------------------------------------

    def measure(self, url: str, concurrency: int, seconds: float, server: servers.Process,
                **kwargs: Any) -> dict[str, Any]:
        """One load point, with the CPU the server and PostgreSQL used meanwhile."""
        self.tool.run(url, concurrency, WARMUP_SECONDS, **kwargs)
        server_pids = [server.pid, *servers.children(server.pid)]
        server_cpu = servers.cpu_seconds(server_pids)
        pg_cpu = servers.cpu_seconds(servers.postgres_pids())
        result: LoadResult = self.tool.run(url, concurrency, seconds, **kwargs)
        data = result.as_dict()
        after = servers.cpu_seconds(server_pids)
        spent = servers.cpu_used(server_cpu, after)
        data["server_cores"] = round(spent / result.duration_s, 2)
        # Per gunicorn worker: a worker near one core beside an idle one means the clients'
        # connections were not spread over the workers, and the figure says so little.
        data["worker_cores"] = [
            round((after[pid] - server_cpu.get(pid, 0.0)) / result.duration_s, 2)
            for pid in server_pids[1:] if pid in after]
        # Every PostgreSQL backend on the machine, other users' included: an upper bound.
        spent = servers.cpu_used(pg_cpu, servers.cpu_seconds(servers.postgres_pids()))
        data["postgres_cores"] = round(spent / result.duration_s, 2)
        return data

    def worker_memory(self, label: str, server: servers.Process) -> None:
        workers = servers.children(server.pid)
        sizes = [servers.rss_kib(pid) for pid in workers]
        self.results.setdefault("memory", {})[label] = {
            "workers": len(workers),
            "rss_mb": [round(rss / 1024, 1) for rss, _ in sizes],
            "peak_rss_mb": [round(peak / 1024, 1) for _, peak in sizes],
            "private_mb": [round(servers.private_and_pss_kib(pid)[0] / 1024, 1)
                           for pid in workers],
            "pss_mb": [round(servers.private_and_pss_kib(pid)[1] / 1024, 1)
                       for pid in workers],
        }

    # -- set-up ---------------------------------------------------------------------------

    def migrate(self, database_url: str) -> None:
        done = self.shop_command(database_url, "db", "upgrade")
        if done.returncode != 0:
            raise RuntimeError(f"shop db upgrade failed: {done.stderr[-1500:]}")

    def seed(self, database_url: str) -> dict[str, int]:
        """The catalogue and the special products, through the shop's own use case."""
        from shop_core.money import Money
        from shop_core.use_cases.catalogue import ProductDetails, create_product
        from shop_web.bootstrap import build_shop
        from shop_web.config import Settings

        env = self.shop_env(database_url, 8000)
        env.pop("REDIS_URL", None)
        shop = build_shop(Settings.from_env(env))
        try:
            def add(name: str, stock: int, price: str = "10.00") -> int:
                product = create_product(shop.uow(), shop.clock, ProductDetails(
                    name, Money.parse(price, "EGP"), stock, f"{name}, made for the benchmark."))
                assert product.id is not None
                return product.id

            ids = {"hot": add("Hot SKU", 1_000_000), "hot_delayed": add("Hot SKU (slow "
                   "gateway)", 1_000_000), "sellout": add("Sell-out SKU", SELLOUT_UNITS),
                   "pgbench": add("pgbench SKU", 10_000_000)}
            for i in range(CATALOGUE_PRODUCTS):
                add(f"Catalogue product {i:03d}", 100 + i, f"{10 + i}.{i % 100:02d}")
            if database_url.startswith("postgresql"):
                ids["expiry_first"] = add("Expiry product 000", 100_000)
                for i in range(1, EXPIRY_PRODUCTS):
                    add(f"Expiry product {i:03d}", 100_000)
        finally:
            shop.database.dispose()
        if database_url.startswith("postgresql"):
            # What autovacuum does within a minute of a bulk load, and a shop in service has
            # long had: without statistics the planner sorts the whole table for each
            # catalogue page instead of walking the created_at index.
            pg.execute(self.pg_db, "ANALYZE")
        return ids

    def register_users(self, base: str) -> tuple[list[str], list[int]]:
        """`USERS` customers, signed up and signed in through the API before any timing."""
        def one(i: int) -> tuple[str, int]:
            name = f"bench{i:03d}"
            with requests.Session() as http:
                made = http.post(f"{base}/api/v1/register/", timeout=60, json={
                    "username": name, "email": f"{name}@example.com", "password": PASSWORD})
                if made.status_code != 201:
                    raise RuntimeError(f"register: {made.status_code} {made.text[:300]}")
                token = http.post(f"{base}/api/v1/token/", timeout=60,
                                  json={"username": name, "password": PASSWORD})
                if token.status_code != 200:
                    raise RuntimeError(f"token: {token.status_code} {token.text[:300]}")
                return token.json()["access"], made.json()["id"]

        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            pairs = list(pool.map(one, range(USERS)))
        elapsed = time.monotonic() - started
        # Each user costs two password hashes (sign-up and sign-in).
        self.results["accounts"] = {"users": USERS, "seconds": round(elapsed, 2),
                                    "hashes_per_s": round(2 * USERS / elapsed, 1)}
        log(f"registered and signed in {USERS} users in {elapsed:.1f} s")
        return [token for token, _ in pairs], [user_id for _, user_id in pairs]

    # -- the scenarios --------------------------------------------------------------------

    def catalogue(self, targets: dict[str, tuple[servers.Process, str]]) -> None:
        """Reads in rounds: each round loads floor / SQLite / PostgreSQL back to back at each
        concurrency, so that the three see the same machine conditions."""
        table: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
        for number in range(ROUNDS):
            for concurrency in CATALOGUE_CONCURRENCY:
                for name, (server, url) in targets.items():
                    data = self.measure(url, concurrency, READ_SECONDS, server)
                    table[name].append({"round": number, **data})
                    log(f"reads {name:<8} round {number} c={concurrency:<3} "
                        f"{data['rps']:>8.1f} req/s p50 {data['p50_ms']:.1f} ms "
                        f"p99 {data['p99_ms']:.1f} ms (client {data['client_cores']} cores, "
                        f"server {data['server_cores']}: {data['worker_cores']} per worker)")
        self.results["reads"] = table

    def orders(self, label: str, base: str, server: servers.Process, product_id: int,
               initial: int, tokens: list[str], concurrencies: tuple[int, ...], *,
               rounds: int = 1, seconds: float = ORDER_SECONDS,
               limit: Callable[[int, int], None] | None = None) -> None:
        """Hot-SKU orders at each concurrency, `rounds` times; `limit`, when given, runs the
        pgbench limit at the same concurrency right after each point, so that the two see
        the same machine."""
        body = {"cart_items": [{"product_id": product_id, "quantity": 1}]}
        points = []
        for number in range(rounds):
            for concurrency in concurrencies:
                data = self.measure(f"{base}/api/v1/orders/", concurrency, seconds, server,
                                    method="POST", body=body, tokens=tokens)
                points.append({"round": number, **data})
                log(f"orders {label} round {number} c={concurrency:<3} "
                    f"{data['rps']:>7.1f} orders/s p50 {data['p50_ms']:.1f} ms "
                    f"p99 {data['p99_ms']:.1f} ms, {data['failed']} failed "
                    f"(client {data['client_cores']} cores, server {data['server_cores']}: "
                    f"{data['worker_cores']} per worker, postgres {data['postgres_cores']})")
                if limit is not None:
                    time.sleep(SETTLE_SECONDS)
                    limit(number, concurrency)
        time.sleep(SETTLE_SECONDS)  # requests still in flight when the load tool stopped
        check = pg.stock_check(self.pg_db, product_id, initial)
        log(f"stock check {label}: stock {check['stock']} + held {check['held']} = "
            f"{check['stock'] + check['held']} vs initial {initial}: "
            f"{'OK' if check['conserved'] else 'MISMATCH'}")
        self.results[label] = {"points": points, "stock_check": check}

    def sellout(self, base: str, product_id: int, tokens: list[str]) -> None:
        """32 clients send 200 orders for the last 100 units: exactly 100 may succeed, the
        other 100 must be refused with 409, and the stock must end at 0. A fixed number of
        requests (not a duration), so every answer is counted."""
        body = {"cart_items": [{"product_id": product_id, "quantity": 1}]}
        local = threading.local()

        def order(i: int) -> int:
            if not hasattr(local, "http"):
                local.http = requests.Session()
            session: requests.Session = local.http
            answer = session.post(f"{base}/api/v1/orders/", json=body, timeout=60,
                                  headers={"Authorization": f"Bearer {tokens[i % len(tokens)]}"})
            return answer.status_code

        with ThreadPoolExecutor(32) as pool:
            statuses = list(pool.map(order, range(2 * SELLOUT_UNITS)))
        check = pg.stock_check(self.pg_db, product_id, SELLOUT_UNITS)
        check["accepted"] = statuses.count(201)
        check["refused"] = statuses.count(409)
        check["other"] = len(statuses) - check["accepted"] - check["refused"]
        check["exact"] = (check["conserved"] and check["accepted"] == SELLOUT_UNITS
                          and check["refused"] == SELLOUT_UNITS and check["stock"] == 0)
        log(f"sell-out: {check['accepted']} accepted, {check['refused']} refused, stock "
            f"{check['stock']}, held {check['held']}: {'OK' if check['exact'] else 'WRONG'}")
        self.results["sellout"] = check

    def metrics_after_orders(self, base: str, product_id: int, token: str) -> None:
        """Pay a few orders at the sandbox checkout (each sends the shop a signed callback),
        then scrape /metrics: it must count every order the load placed and every callback,
        whichever worker answers the scrape."""
        auth = {"Authorization": f"Bearer {token}"}
        for _ in range(PAID_ORDERS):
            order = requests.post(f"{base}/api/v1/orders/", headers=auth, timeout=30, json={
                "cart_items": [{"product_id": product_id, "quantity": 1}]}).json()
            secret = parse_qs(urlsplit(order["payment_url"]).query)["clientSecret"][0]
            requests.post(order["payment_url"], timeout=30,
                          data={"clientSecret": secret, "action": "pay"})
        placed = pg.query(self.pg_db, """SELECT count(DISTINCT order_id) FROM order_lines
                                         WHERE product_id = %s""", (product_id,))[0][0]
        deadline = time.monotonic() + 15  # the sandbox delivers its callbacks from a thread
        while True:
            counters = scrape.order_counters(requests.get(f"{base}/metrics", timeout=30).text)
            if counters["callbacks_paid"] >= PAID_ORDERS or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        counters["orders_in_database"] = placed
        counters["exact"] = (counters["placed"] == placed
                             and counters["callbacks_paid"] == PAID_ORDERS)
        log(f"metrics: {counters['placed']:.0f} orders placed (database: {placed}), "
            f"{counters['callbacks_paid']:.0f} paid callbacks of {PAID_ORDERS}, "
            f"{counters['units_reserved']:.0f} units reserved: "
            f"{'OK' if counters['exact'] else 'MISMATCH'}")
        self.results["metrics"] = counters

    def pgbench(self, product_id: int, user_id: int, number: int, concurrency: int) -> None:
        result = pg.run_pgbench(self.pg_db, product_id, user_id, concurrency,
                                ORDER_SECONDS, self.workdir)
        self.results.setdefault("pgbench", []).append({"round": number, **result.as_dict()})
        log(f"pgbench round {number} c={concurrency:<3} {result.tps:>8.1f} tps "
            f"(latency {result.latency_ms:.2f} ms, client {result.client_cpu_s:.1f} CPU s)")

    def expiry(self, database_url: str, user_id: int, product_ids: list[int]) -> None:
        started = time.monotonic()
        initial = pg.insert_overdue_orders(self.pg_db, user_id, product_ids, EXPIRY_ORDERS)
        log(f"inserted {EXPIRY_ORDERS} overdue orders in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        done = self.shop_command(database_url, "expire-orders")
        elapsed = time.monotonic() - started
        if done.returncode != 0:
            raise RuntimeError(f"shop expire-orders failed: {done.stderr[-1500:]}")
        check = pg.expiry_check(self.pg_db, initial, EXPIRY_ORDERS)
        # The command's own start-up (imports, settings), to tell it apart from the sweep.
        started = time.monotonic()
        self.shop_command(database_url, "--help")
        startup = time.monotonic() - started
        check.update({"seconds": round(elapsed, 2), "cli_startup_seconds": round(startup, 2),
                      "output": done.stdout.strip()})
        log(f"expiry: {done.stdout.strip()} in {elapsed:.2f} s (CLI start-up alone "
            f"{startup:.2f} s); stock restored exactly: {check['stock_restored_exactly']}")
        self.results["expiry"] = check

    # -- the run --------------------------------------------------------------------------

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        log(f"== {name}")
        try:
            yield
        except Exception as error:  # noqa: BLE001 - report, carry on with the rest
            self.results["errors"].append(f"{name}: {type(error).__name__}: {error}")
            log(f"!! {name} failed: {error}")
            traceback.print_exc()

    def main(self) -> int:
        self.results["machine"] = machine()
        self.results["gunicorn"] = " ".join(servers.GUNICORN_SETTINGS)
        self.note("The shop runs with SHOP_ENV=development: production refuses sandbox "
                  "payments and the fake Paymob. Gunicorn settings are the same for every app.")
        self.choose_redis()
        sqlite_url = f"sqlite:///{self.workdir / 'shop.db'}"
        try:
            pg_name, pg_url = pg.create_database()
        except Exception as error:  # noqa: BLE001 - explain, then stop
            log(f"!! PostgreSQL is needed at 127.0.0.1:5432 (user postgres, trust auth) to "
                f"create the benchmark's database: {error}")
            self.tool.close()
            return 1
        self.pg_db = pg_name
        log(f"PostgreSQL database {pg_name}; SQLite file {sqlite_url}")
        try:
            self.scenarios(sqlite_url, pg_url)
        finally:
            for process in list(self.processes):
                self.stop(process)
            pg.drop_database(pg_name)
            self.cleanup_redis()
            self.tool.close()
        self.results["elapsed_s"] = round(time.monotonic() - self.started, 1)
        summary = report.summarize(self.results, TARGETS)
        self.results["summary"] = summary
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
        path.write_text(json.dumps(self.results, indent=2, default=str) + "\n")
        print(report.table(self.results, summary))
        log(f"results written to {path.relative_to(ROOT)}")
        if self.results["errors"]:
            log(f"server logs kept in {self.logdir}")
            return 1
        shutil.rmtree(self.workdir, ignore_errors=True)  # the SQLite file and the logs
        return 0

    def scenarios(self, sqlite_url: str, pg_url: str) -> None:
        with self.step("migrate and seed"):
            self.migrate(sqlite_url)
            self.migrate(pg_url)
            self.seed(sqlite_url)
            ids = self.seed(pg_url)
        floor, floor_base = servers.start_gunicorn(
            "floor", "bench.floor_app:create_app()", self.floor_env(), str(ROOT), self.logdir)
        self.processes.append(floor)
        lite, lite_base = self.start_shop("shop-sqlite", sqlite_url)
        shop, base = self.start_shop("shop-postgres", pg_url)
        with self.step("catalogue reads"):
            self.catalogue({"floor": (floor, f"{floor_base}/floor/"),
                            "sqlite": (lite, lite_base + CATALOGUE_PATH),
                            "postgres": (shop, base + CATALOGUE_PATH)})
        self.worker_memory("floor", floor)
        self.worker_memory("shop-sqlite", lite)
        self.stop(floor)
        self.stop(lite)
        tokens: list[str] = []
        user_ids: list[int] = []
        with self.step("accounts"):
            tokens, user_ids = self.register_users(base)
        if tokens:
            with self.step("hot-SKU orders, sandbox gateway, and the pgbench limit"):
                self.orders("orders", base, shop, ids["hot"], 1_000_000, tokens,
                            ORDER_CONCURRENCY, rounds=ROUNDS,
                            limit=lambda number, c: self.pgbench(ids["pgbench"], user_ids[0],
                                                                 number, c))
            with self.step("metrics after the order load"):
                self.metrics_after_orders(base, ids["hot"], tokens[0])
            with self.step("sell-out race"):
                self.sellout(base, ids["sellout"], tokens)
        self.worker_memory("shop-postgres", shop)
        self.stop(shop)
        if tokens:
            with self.step("hot-SKU orders, gateway answering after 200 ms"):
                fake, fake_base = servers.start_fake_paymob(GATEWAY_DELAY, str(ROOT),
                                                            self.logdir)
                self.processes.append(fake)
                live, live_base = self.start_shop(
                    "shop-live", pg_url, PAYMOB_MODE="live", PAYMOB_API_BASE=fake_base,
                    PAYMOB_SECRET_KEY="bench_fake_paymob_secret_key",
                    PAYMOB_PUBLIC_KEY="bench_public_key", PAYMOB_HMAC_SECRET="bench-hmac",
                    PAYMOB_INTEGRATION_IDS="4000001")
                self.orders("delayed", live_base, live, ids["hot_delayed"], 1_000_000,
                            tokens, DELAY_CONCURRENCY, seconds=DELAY_SECONDS)
                self.worker_memory("shop-live", live)
                self.stop(live)
                self.stop(fake)
        with self.step("expiry of 100,000 overdue orders"):
            self.expiry(pg_url, user_ids[0] if user_ids else self.any_user(),
                        list(range(ids["expiry_first"], ids["expiry_first"] + EXPIRY_PRODUCTS)))

    def any_user(self) -> int:
        rows = pg.query(self.pg_db, """INSERT INTO users (username, email, first_name,
            last_name, is_staff, password_hash, date_joined) VALUES ('expiry', 'e@example.com',
            '', '', false, 'x', now()) RETURNING id""")
        return int(rows[0][0])

    def floor_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep)
        return env


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = 0
    with suppress(OSError, ValueError, IndexError):
        memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    try:
        postgres = pg.server_version()
    except Exception:  # noqa: BLE001
        postgres = "?"
    return {"cores": os.cpu_count(), "cpu": cpu, "memory_mb": memory,
            "kernel": platform.release(), "python": platform.python_version(),
            "postgresql": postgres, "date": datetime.now(UTC).isoformat(timespec="seconds")}


def main() -> int:
    return Run().main()

