"""With REDIS_URL set but Redis unreachable, customers can still sign in and buy: expiry
falls back to the sweep and rate limits to per-process counting."""

from __future__ import annotations

import logging

import pytest

from shop_adapters.sqlalchemy.migrate import upgrade
from shop_web.app import create_app
from shop_web.bootstrap import build_shop
from shop_web.config import Settings
from tests.ports import free_port

from .conftest import JWT_SECRET, Api


def test_order_is_placed_and_answered_201_when_redis_is_down(
        sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    upgrade(sqlite_url)
    environ = {"SHOP_ENV": "test", "DATABASE_URL": sqlite_url, "JWT_SECRET_KEY": JWT_SECRET,
               "PASSWORD_HASH_PROFILE": "cheap",
               "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    shop = build_shop(Settings.from_env(environ))
    api = Api(create_app(environ, shop=shop))
    try:
        product = api.product(stock=3)
        with caplog.at_level(logging.WARNING):
            auth = api.auth("buyer")  # register and token: rate-limited endpoints
            placed = api.http.post("/api/v1/orders/", headers=auth, json={
                "cart_items": [{"product_id": product, "quantity": 1}]})
        assert placed.status_code == 201, placed.json
        assert placed.json["status"] == "pending" and placed.json["payment_url"]
        assert api.stock(product) == 2
        assert "Redis is unreachable" in caplog.text
        # Still ready: a queue outage must not take the instance out of service.
        ready = api.http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json == {"status": "degraded", "redis": "unreachable"}
    finally:
        shop.database.dispose()
