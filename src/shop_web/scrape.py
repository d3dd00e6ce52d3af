"""`GET /metrics`: every process's counts (`shop_web.metrics`) and the shop's state as of
the scrape, in Prometheus' text format."""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

from shop_adapters.sqlalchemy.backlog import order_backlog
from shop_web.bootstrap import Shop, current_shop
from shop_web.health import answers
from shop_web.metrics import MULTIPROCESS_DIR

blueprint = Blueprint("metrics", __name__)


@blueprint.get("/metrics")
def scrape() -> Response:
    """Every counter of every process, and the database's state as of now."""
    token = current_shop().settings.metrics_token
    if token and not _bearer_matches(token):
        return Response("Metrics need the bearer token METRICS_TOKEN.\n", status=401,
                        mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROCESS_DIR):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ThisProcess())
    registry.register(_ShopState(current_shop()))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def _bearer_matches(token: str) -> bool:
    offered = request.headers.get("Authorization", "")
    scheme, _, value = offered.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.encode(), token.encode())


class _ThisProcess(Collector):
    """The default registry's metrics, when this process is the only one counting."""

    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()


class _ShopState(Collector):
    """Gauges read at scrape time: one statement, and a ping of Redis when there is one."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop

    def collect(self) -> Iterator[GaugeMetricFamily]:
        # The backlog query doubles as the database's check; Redis is pinged.
        database_up = GaugeMetricFamily(
            "shop_database_up", "1 when the database answered this scrape.")
        try:
            backlog = order_backlog(self.shop.database, self.shop.clock.now())
        except Exception:  # noqa: BLE001 - a scrape reports the outage, never a 500
            database_up.add_metric([], 0)
        else:
            database_up.add_metric([], 1)
            yield GaugeMetricFamily(
                "shop_orders_needs_refund", "Paid orders the shop could not honour, waiting "
                "for a refund.", value=backlog.needs_refund)
            yield GaugeMetricFamily(
                "shop_orders_pending_past_deadline", "Pending orders whose deadline has "
                "passed (expiry is behind).", value=backlog.overdue_pending)
            yield GaugeMetricFamily(
                "shop_events_waiting", "Order events not yet handed to their subscribers.",
                value=backlog.events_waiting)
            yield GaugeMetricFamily(
                "shop_event_deliveries_due", "Event deliveries due and not yet sent.",
                value=backlog.deliveries_due)
            yield GaugeMetricFamily(
                "shop_webhooks_disabled", "Webhook targets disabled after failing for a day.",
                value=backlog.webhooks_disabled)
        yield database_up
        if self.shop.redis is not None:
            yield GaugeMetricFamily("shop_redis_up", "1 when Redis answered this scrape.",
                                    value=1 if answers(self.shop.redis.ping) else 0)
