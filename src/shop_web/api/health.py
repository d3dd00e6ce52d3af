"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import logging

from flask import Response, jsonify

from shop_web.api.base import ShopBlueprint
from shop_web.bootstrap import current_shop
from shop_web.schemas.common import HealthSchema, UnavailableSchema

log = logging.getLogger(__name__)

blueprint = ShopBlueprint("health", __name__, description="Probes.")


@blueprint.route("/healthz", methods=["GET"], operation_id="checkLiveness")
@blueprint.response(200, HealthSchema)
def healthz() -> dict[str, str]:
    """The process is alive (it checks nothing else)."""
    return {"status": "ok"}


@blueprint.route("/readyz", methods=["GET"], operation_id="checkReadiness")
@blueprint.response(200, HealthSchema)
@blueprint.alt_response(503, schema=UnavailableSchema)
def readyz() -> Response:
    """The database, and Redis when configured, answer."""
    shop = current_shop()
    checks = [("database", shop.database.ping)]
    if shop.redis is not None:
        checks.append(("redis", shop.redis.ping))
    for name, ping in checks:
        try:
            ok = ping()
        except Exception as error:
            log.warning("Readiness: %s unreachable: %s", name, error)
            ok = False
        if ok is False:
            response = jsonify({"status": "unavailable", "detail": f"{name} is unreachable."})
            response.status_code = 503
            return response
    return jsonify({"status": "ok"})
