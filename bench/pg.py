"""PostgreSQL for the benchmark: a fresh database created and dropped by the run, the pgbench
limit for the reservation, and the SQL checks of stock conservation."""

from __future__ import annotations

import re
import resource
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import psycopg
from attrs import frozen

ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"

# The shop's reservation transaction reduced to its SQL: the conditional UPDATE that takes
# the hot row's lock, then the order and its line, then COMMIT. `-M prepared` below, as
# psycopg prepares statements the shop repeats.
PGBENCH_SCRIPT = """\
BEGIN;
UPDATE products SET stock = stock - 1 WHERE id = :pid AND stock >= 1;
WITH o AS (INSERT INTO orders (user_id, status, currency, expires_at, needs_refund,
                               created_at, updated_at)
           VALUES (:uid, 'pending', 'EGP', now() + interval '1 hour', false, now(), now())
           RETURNING id)
INSERT INTO order_lines (order_id, product_id, name, unit_price, quantity)
SELECT id, :pid, 'pgbench', 100, 1 FROM o;
END;
"""


def create_database() -> tuple[str, str]:
    """A new, empty database; returns (name, SQLAlchemy URL)."""
    name = f"shop_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def dsn(name: str) -> str:
    return f"host=127.0.0.1 port=5432 user=postgres dbname={name} connect_timeout=5"


def query(name: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn(name)) as conn:
        cursor = conn.execute(sql, params)
        rows = cursor.fetchall() if cursor.description is not None else []
        conn.commit()
        return rows


def execute(name: str, sql: str, params: Any = None) -> None:
    with psycopg.connect(dsn(name)) as conn:
        conn.execute(sql, params)
        conn.commit()


def server_version() -> str:
    with psycopg.connect(ADMIN_DSN) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"


def stock_check(name: str, product_id: int, initial: int) -> dict[str, Any]:
    """Stock now, units held by orders that keep their reservation (pending or paid), and
    whether they add up to the initial stock: zero oversell and no lost update. One
    statement, so one snapshot: a separate read of each could straddle a commit."""
    stock, held, holding, released = query(name, """
        SELECT p.stock,
               coalesce(sum(l.quantity) FILTER (WHERE o.status IN ('pending', 'success')), 0),
               count(DISTINCT o.id) FILTER (WHERE o.status IN ('pending', 'success')),
               count(DISTINCT o.id) FILTER (WHERE o.status IN ('failed', 'timeout'))
        FROM products p
        LEFT JOIN order_lines l ON l.product_id = p.id
        LEFT JOIN orders o ON o.id = l.order_id
        WHERE p.id = %s GROUP BY p.stock""", (product_id,))[0]
    return {"product_id": product_id, "initial": initial, "stock": stock,
            "held": int(held), "orders_holding": holding, "orders_released": released,
            "conserved": stock + int(held) == initial and stock >= 0}


@frozen
class PgbenchResult:
    concurrency: int
    tps: float
    transactions: int
    latency_ms: float
    client_cpu_s: float
    duration_s: float

    def as_dict(self) -> dict[str, Any]:
        return {"concurrency": self.concurrency, "tps": round(self.tps, 1),
                "transactions": self.transactions, "latency_avg_ms": round(self.latency_ms, 2),
                "client_cpu_s": round(self.client_cpu_s, 2), "duration_s": self.duration_s}


def pgbench_path() -> str | None:
    return shutil.which("pgbench") or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))), None)


def run_pgbench(name: str, product_id: int, user_id: int, concurrency: int,
                duration: int, workdir: Path) -> PgbenchResult:
    binary = pgbench_path()
    if binary is None:
        raise RuntimeError("pgbench is not installed")
    script = workdir / "reserve.sql"
    script.write_text(PGBENCH_SCRIPT)
    command = [binary, "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-n",
               "-M", "prepared", "-c", str(concurrency), "-j", str(min(concurrency, 2)),
               "-T", str(duration), "-D", f"pid={product_id}", "-D", f"uid={user_id}",
               "-f", str(script), name]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60,
                          check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"pgbench failed: {done.stderr[-1000:]}")
    tps = re.search(r"tps = ([0-9.]+) \(without initial", done.stdout)
    count = re.search(r"number of transactions actually processed: (\d+)", done.stdout)
    latency = re.search(r"latency average = ([0-9.]+) ms", done.stdout)
    if tps is None or count is None:
        raise RuntimeError(f"could not read pgbench's output: {done.stdout[-1000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return PgbenchResult(concurrency=concurrency, tps=float(tps[1]),
                         transactions=int(count[1]),
                         latency_ms=float(latency[1]) if latency else 0.0,
                         client_cpu_s=cpu, duration_s=duration)


def insert_overdue_orders(name: str, user_id: int, product_ids: list[int],
                          count: int) -> dict[int, int]:
    """`count` pending orders past their deadline, one line each (1 to 3 units of one of
    `product_ids`), with the products' stock reduced by what they hold, as if the shop had
    reserved it. Returns the stock each product must have once they are all expired."""
    with psycopg.connect(dsn(name)) as conn:
        initial: dict[int, int] = dict(conn.execute(
            "SELECT id, stock FROM products WHERE id = ANY(%s)", (product_ids,)).fetchall())
        conn.execute("""
            WITH o AS (
              INSERT INTO orders (user_id, status, currency, expires_at, needs_refund,
                                  special_reference, created_at, updated_at)
              SELECT %(uid)s, 'pending', 'EGP', now() - interval '1 hour', false,
                     'bench-expiry-' || g, now() - interval '2 hours',
                     now() - interval '2 hours'
              FROM generate_series(1, %(count)s) AS g
              RETURNING id, special_reference)
            INSERT INTO order_lines (order_id, product_id, name, unit_price, quantity)
            SELECT o.id,
                   (%(pids)s::int[])[1 + (split_part(o.special_reference, '-', 3)::int
                                          %% cardinality(%(pids)s::int[]))],
                   'bench expiry', 100,
                   1 + split_part(o.special_reference, '-', 3)::int %% 3
            FROM o""", {"uid": user_id, "count": count, "pids": product_ids})
        conn.execute("""
            UPDATE products p SET stock = p.stock - h.held
            FROM (SELECT l.product_id, sum(l.quantity) AS held
                  FROM order_lines l JOIN orders o ON o.id = l.order_id
                  WHERE o.special_reference LIKE 'bench-expiry-%%' GROUP BY l.product_id) h
            WHERE p.id = h.product_id""")
        conn.commit()
    with psycopg.connect(dsn(name), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE orders")
        conn.execute("VACUUM ANALYZE order_lines")
        conn.execute("VACUUM ANALYZE products")
    return initial


def expiry_check(name: str, initial: dict[int, int], count: int) -> dict[str, Any]:
    rows = dict(query(name, "SELECT id, stock FROM products WHERE id = ANY(%s)",
                      (list(initial),)))
    timed_out = query(name, """SELECT count(*) FROM orders
                               WHERE special_reference LIKE 'bench-expiry-%%'
                               AND status = 'timeout'""")[0][0]
    wrong = {pid: (rows.get(pid), stock) for pid, stock in initial.items()
             if rows.get(pid) != stock}
    return {"orders": count, "timed_out": timed_out, "products": len(initial),
            "products_with_wrong_stock": len(wrong),
            "stock_restored_exactly": not wrong and timed_out == count}
