"""When the database cannot be reached, clients get a clear 503, never a 500."""

from __future__ import annotations

import logging

import pytest

from shop_web.app import create_app
from tests.ports import free_port

from .conftest import JWT_SECRET


def test_requests_get_503_when_the_database_is_unreachable(
        caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # nothing listens here
    app = create_app({"SHOP_ENV": "test", "JWT_SECRET_KEY": JWT_SECRET,
                      "PASSWORD_HASH_PROFILE": "cheap",
                      "DATABASE_URL": f"postgresql+psycopg://shop@127.0.0.1:{port}/shop"})
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        replies = [client.get("/api/v1/products/"), client.get("/api/v1/products/"),
                   client.post("/api/v1/register/", json={
                      "username": "someone", "email": "someone@example.com",
                       "password": "a-long-passphrase"})]
    for reply in replies:
        assert reply.status_code == 503
        assert reply.headers["Retry-After"] == "5"
        assert reply.get_json() == {
            "detail": "The database is unavailable right now; try again shortly."}
    # One line for the outage, not one (with a traceback) per request.
    outage_lines = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(outage_lines) == 1 and not any(r.exc_info for r in caplog.records)
    assert client.get("/readyz").status_code == 503
    app.extensions["shop"].database.dispose()
