"""The shop's Prometheus metrics, and `GET /metrics`.

Every process (gunicorn workers, RQ workers, the scheduler) counts in prometheus-client's
multiprocess mode when `PROMETHEUS_MULTIPROC_DIR` names a folder, which it must do before
this module is first imported: `shop serve`'s gunicorn configuration sets it up, cleans it
and marks dead workers; `shop worker` and `shop scheduler` on the same machine count there
when given the same folder. A scrape of any web worker then sums them all. Without the
variable (tests, a single process) the counts are this process's.

Names are prefixed `shop_`; labels never carry ids or user data, only small fixed sets
(route templates, outcomes, operations). Gauges of the database's state are read when
scraped, by one statement, never kept up to date on the request path."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from prometheus_client import (
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.multiprocess import mark_process_dead
from sqlalchemy import event

from shop_adapters.sqlalchemy.database import Database
from shop_adapters.sqlalchemy.movements import StockMovements
from shop_core.accounts import User
from shop_core.errors import PaymentProviderError
from shop_core.orders import Order
from shop_core.payments import CallbackOutcome, PaymentCallback, PaymentIntention
from shop_core.ports import PaymentGateway, PaymentLookup

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

# -- what is counted ------------------------------------------------------------------------

HTTP_REQUEST_SECONDS = Histogram(
    "shop_http_request_duration_seconds", "Time to answer an HTTP request.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
ORDERS = Counter(
    "shop_orders_total", "Orders by what happened to them: placed, paid, declined, "
    "failed_at_provider, expired, needs_refund.", ["event"])
CALLBACKS = Counter(
    "shop_payment_callbacks_total", "Paymob transaction callbacks by outcome, refused ones "
    "(bad_signature, malformed) included.", ["outcome"])
REVERSALS = Counter(
    "shop_payment_reversals_total", "Refund and void transactions Paymob reported, by "
    "outcome.", ["kind", "outcome"])
STOCK_UNITS = Counter(
    "shop_stock_units_total", "Units of stock reserved by orders and released back.",
    ["movement"])
EXPIRY_LAG_SECONDS = Histogram(
    "shop_order_expiry_lag_seconds", "How long after its deadline each order timed out.",
    buckets=(1, 2, 5, 10, 30, 60, 120, 300, 900, 3600))
PAYMOB_SECONDS = Histogram(
    "shop_paymob_request_duration_seconds", "Time of each call to Paymob.", ["operation"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
PAYMOB_ERRORS = Counter(
    "shop_paymob_errors_total", "Calls to Paymob that failed.", ["operation"])
DB_CONNECTIONS_IN_USE = Gauge(
    "shop_db_pool_connections_in_use", "Database connections checked out of the pools.",
    ["pool"], multiprocess_mode="livesum")

# Orders as the callbacks moved them.
_ORDER_EVENT_FOR_OUTCOME = {
    CallbackOutcome.PAID.value: "paid",
    CallbackOutcome.LATE_PAID.value: "paid",
    CallbackOutcome.DECLINED.value: "declined",
    CallbackOutcome.NEEDS_REFUND.value: "needs_refund",
}


def count_callback(outcome: str, callback: PaymentCallback | None = None) -> None:
    """One webhook delivery: its outcome (a `CallbackOutcome` value, `ignored`,
    `bad_signature` or `malformed`), and what it did to its order."""
    CALLBACKS.labels(outcome).inc()
    order_event = _ORDER_EVENT_FOR_OUTCOME.get(outcome)
    if order_event:
        ORDERS.labels(order_event).inc()
    if callback is not None and callback.is_reversal:
        REVERSALS.labels("void" if callback.is_void else "refund", outcome).inc()


class MovementMetrics:
    """Counts what committed transactions did to stock (`Database`'s observer)."""

    def committed(self, movements: StockMovements) -> None:
        if movements.reserved:
            STOCK_UNITS.labels("reserved").inc(movements.reserved)
        if movements.released:
            STOCK_UNITS.labels("released").inc(movements.released)
        if movements.expiry_lags:
            ORDERS.labels("expired").inc(len(movements.expiry_lags))
            for lag in movements.expiry_lags:
                EXPIRY_LAG_SECONDS.observe(max(0.0, lag))


class MeteredGateway:
    """The payment gateway, timed. Each new order asks it for a payment exactly once (a
    replayed Idempotency-Key never does), so orders placed and failed at the provider are
    counted here too."""

    def __init__(self, gateway: PaymentGateway) -> None:
        self.gateway = gateway

    def create_intention(self, order: Order, customer: User, expires_at: datetime,
                         methods: Sequence[str] = ()) -> PaymentIntention:
        started = time.perf_counter()
        try:
            intention = self.gateway.create_intention(order, customer, expires_at, methods)
        except PaymentProviderError:
            PAYMOB_ERRORS.labels("create_intention").inc()
            ORDERS.labels("failed_at_provider").inc()
            raise
        finally:
            PAYMOB_SECONDS.labels("create_intention").observe(time.perf_counter() - started)
        ORDERS.labels("placed").inc()
        return intention


class MeteredLookup:
    """Paymob's transaction inquiry, timed and its failures counted, beside the intention's
    (operation `transaction_inquiry`)."""

    def __init__(self, lookup: PaymentLookup) -> None:
        self.lookup = lookup

    def find_payment(self, order: Order) -> PaymentCallback | None:
        started = time.perf_counter()
        try:
            return self.lookup.find_payment(order)
        except PaymentProviderError:
            PAYMOB_ERRORS.labels("transaction_inquiry").inc()
            raise
        finally:
            PAYMOB_SECONDS.labels("transaction_inquiry").observe(time.perf_counter() - started)


def watch_pools(database: Database) -> None:
    """Keep `shop_db_pool_connections_in_use` as connections leave and return to the
    pools (a gauge each process adds to; dead processes drop out)."""
    engines = {"write": database.engine, "read": database.read_engine}
    if database.read_engine is database.engine:
        del engines["read"]
    for name, engine in engines.items():
        _count_checkouts(engine, DB_CONNECTIONS_IN_USE.labels(name))


def _count_checkouts(engine: Any, gauge: Any) -> None:
    event.listen(engine, "checkout", lambda *_: gauge.inc())
    event.listen(engine, "checkin", lambda *_: gauge.dec())


# -- HTTP -----------------------------------------------------------------------------------

_CONVERTER = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
_UNMATCHED = "unmatched"  # 404s for paths no route has: never the path itself


def _route_template(rule: str) -> str:
    """`/api/v1/orders/<int(min=1):order_id>/` -> `/api/v1/orders/<order_id>/`."""
    return _CONVERTER.sub(r"<\1>", rule)


def init_app(app: Flask) -> None:
    """Time every request by route template, method and status class (`shop_web.scrape`
    serves the counts)."""
    templates: dict[str, str] = {}
    children: dict[tuple[str, str, int], Any] = {}

    @app.before_request
    def _start_timer() -> None:
        request.environ["shop.started"] = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        environ = request.environ
        started = environ.get("shop.started")
        if started is None:  # a request refused before the timer started
            return response
        rule = request.url_rule
        if rule is None:
            route = _UNMATCHED
        else:
            route = templates.get(rule.rule) or templates.setdefault(
                rule.rule, _route_template(rule.rule))
        key = (route, request.method, response.status_code // 100)
        child = children.get(key)
        if child is None:
            child = children.setdefault(
                key, HTTP_REQUEST_SECONDS.labels(route, request.method, f"{key[2]}xx"))
        child.observe(time.perf_counter() - started)
        return response


# -- processes ------------------------------------------------------------------------------

def process_exited(pid: int) -> None:
    """Drop a dead process's live gauges (its counters stay in the sums)."""
    if os.environ.get(MULTIPROCESS_DIR):
        mark_process_dead(pid)  # type: ignore[no-untyped-call]


def count_in_this_process() -> None:
    """For `shop worker` and `shop scheduler`: create the shared folder if it is named, and
    drop this process's live gauges when it exits."""
    folder = os.environ.get(MULTIPROCESS_DIR)
    if not folder:
        return
    import atexit

    Path(folder).mkdir(parents=True, exist_ok=True)
    atexit.register(process_exited, os.getpid())
