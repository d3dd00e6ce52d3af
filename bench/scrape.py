"""What `/metrics` says after the order load: the orders and callbacks the run made, summed
over every gunicorn worker, beside what the database holds."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

COUNTERS = {
    "placed": ("shop_orders_total", "event", "placed"),
    "paid": ("shop_orders_total", "event", "paid"),
    "callbacks_paid": ("shop_payment_callbacks_total", "outcome", "paid"),
    "units_reserved": ("shop_stock_units_total", "movement", "reserved"),
}


def order_counters(text: str) -> dict[str, float]:
    """The counters of `COUNTERS` in a Prometheus text exposition (0 when absent)."""
    found = dict.fromkeys(COUNTERS, 0.0)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            for key, (name, label, value) in COUNTERS.items():
                if sample.name == name and sample.labels.get(label) == value:
                    found[key] = sample.value
    return found
