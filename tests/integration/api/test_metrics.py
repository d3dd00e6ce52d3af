"""`GET /metrics`: what an operator sees of orders, callbacks, stock and requests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from shop_adapters.paymob.callbacks import transaction_hmac
from shop_core.use_cases.delivery import hand_out
from shop_core.use_cases.expiry import expire_order, expire_overdue_orders

from .conftest import Api
from .test_webhook import _callback, _deliver, _place

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _scrape(api: Api, headers: Mapping[str, str] | None = None) -> Samples:
    reply = api.http.get("/metrics", headers=dict(headers or {}))
    assert reply.status_code == 200, reply.data
    assert reply.headers["Content-Type"].startswith("text/plain; version=")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(reply.data.decode())
            for sample in family.samples}


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return _value(after, name, **labels) - _value(before, name, **labels)


def test_a_paid_order_and_a_forged_callback_show_in_the_metrics(client: Api) -> None:
    product = client.product(stock=5)
    before = _scrape(client)

    order_id, _ = _place(client, product, quantity=2)
    body = _callback(client, order_id)
    assert _deliver(client, body, hmac=transaction_hmac(body["obj"], "wrong")).status_code == 401
    assert _deliver(client, body).json["outcome"] == "paid"
    assert _deliver(client, body).json["outcome"] == "duplicate"
    after = _scrape(client)

    assert _grew(before, after, "shop_orders_total", event="placed") == 1
    assert _grew(before, after, "shop_orders_total", event="paid") == 1
    assert _grew(before, after, "shop_payment_callbacks_total", outcome="paid") == 1
    assert _grew(before, after, "shop_payment_callbacks_total", outcome="duplicate") == 1
    assert _grew(before, after, "shop_payment_callbacks_total", outcome="bad_signature") == 1
    assert _grew(before, after, "shop_stock_units_total", movement="reserved") == 2
    assert _grew(before, after, "shop_paymob_request_duration_seconds_count",
                 operation="create_intention") == 1
    assert _grew(before, after, "shop_http_request_duration_seconds_count",
                 route="/api/v1/orders/", method="POST", status="2xx") == 1
    assert _grew(before, after, "shop_http_request_duration_seconds_count",
                 route="/webhook/", method="POST", status="4xx") == 1
    assert _value(after, "shop_database_up") == 1


def test_a_provider_failure_and_an_out_of_stock_cart_reserve_nothing(lite: Api) -> None:
    product = lite.product(stock=1)
    auth = lite.auth("buyer")
    before = _scrape(lite)

    lite.shop.gateway.gateway.fail_next = True  # type: ignore[attr-defined]
    failed = lite.http.post("/api/v1/orders/", headers=auth, json={
        "cart_items": [{"product_id": product, "quantity": 1}]})
    short = lite.http.post("/api/v1/orders/", headers=auth, json={
        "cart_items": [{"product_id": product, "quantity": 2}]})
    after = _scrape(lite)

    assert (failed.status_code, short.status_code) == (502, 409)
    assert _grew(before, after, "shop_orders_total", event="failed_at_provider") == 1
    assert _grew(before, after, "shop_paymob_errors_total", operation="create_intention") == 1
    assert _grew(before, after, "shop_orders_total", event="placed") == 0
    # The failed order's unit was reserved, then released with it; the short cart moved none.
    assert _grew(before, after, "shop_stock_units_total", movement="reserved") == 1
    assert _grew(before, after, "shop_stock_units_total", movement="released") == 1


def test_expired_orders_are_counted_with_how_late_they_expired(client: Api) -> None:
    product = client.product(stock=5)
    swept, _ = _place(client, product, quantity=2)
    by_job, _ = _place(client, product, quantity=1)
    client.shop.clock.advance(timedelta(minutes=10, seconds=30))  # type: ignore[attr-defined]
    before = _scrape(client)

    assert expire_order(client.shop.uow(), client.shop.clock, by_job)
    assert expire_overdue_orders(client.shop.uow(), client.shop.clock) == 1
    after = _scrape(client)

    assert _value(before, "shop_orders_pending_past_deadline") == 2
    assert _value(after, "shop_orders_pending_past_deadline") == 0
    assert _grew(before, after, "shop_orders_total", event="expired") == 2
    assert _grew(before, after, "shop_stock_units_total", movement="released") == 3
    assert _grew(before, after, "shop_order_expiry_lag_seconds_count") == 2
    assert _grew(before, after, "shop_order_expiry_lag_seconds_sum") == 60
    assert _grew(before, after, "shop_order_expiry_lag_seconds_bucket", le="30.0") == 2
    assert swept != by_job


def test_labels_name_route_templates_never_ids_or_paths(lite: Api) -> None:
    auth = lite.auth("buyer")
    lite.http.get("/api/v1/orders/424242/", headers=auth)
    lite.http.get("/no/such/path/987654")

    text = lite.http.get("/metrics").data.decode()

    assert 'route="/api/v1/orders/<order_id>/",status="4xx"' in text
    assert 'route="unmatched"' in text
    assert "424242" not in text and "987654" not in text and "buyer" not in text


def test_metrics_need_the_bearer_token_when_one_is_set(make_lite: object) -> None:
    api = make_lite(METRICS_TOKEN="scrape-secret-123")  # type: ignore[operator]

    assert api.http.get("/metrics").status_code == 401
    wrong = api.http.get("/metrics", headers={"Authorization": "Bearer scrape-secret-124"})
    assert wrong.status_code == 401
    assert "shop_orders_total" in str(_scrape(
        api, {"Authorization": "Bearer scrape-secret-123"}))


def test_events_waiting_for_delivery_show_in_the_metrics(client: Api) -> None:
    created = client.http.post("/api/v1/webhooks/", headers=client.auth("admin"), json={
        "url": "http://127.0.0.1:9/hooks", "events": ["order.placed"]})
    assert created.status_code == 201
    _place(client, client.product(stock=5))
    waiting = _scrape(client)
    assert (_value(waiting, "shop_events_waiting"),
            _value(waiting, "shop_event_deliveries_due")) == (1, 0)
    assert hand_out(client.shop.uow(), client.shop.clock, ()) == 1
    due = _scrape(client)
    assert (_value(due, "shop_events_waiting"), _value(due, "shop_event_deliveries_due"),
            _value(due, "shop_webhooks_disabled")) == (0, 1, 0)
