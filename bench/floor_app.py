"""The floor for reads: the smallest Flask app that answers a small JSON document.

Served by the same gunicorn settings and hit by the same load tool as the catalogue, it shows
what Flask + gunicorn + the load client cost on this machine with no shop code at all."""

from __future__ import annotations

from typing import Any

from flask import Flask

DOCUMENT: dict[str, Any] = {
    "count": 1,
    "next": None,
    "previous": None,
    "results": [{"id": 1, "name": "Floor", "price": "1.00", "stock": 1}],
}


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/floor/")
    def floor() -> dict[str, Any]:
        return DOCUMENT

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
