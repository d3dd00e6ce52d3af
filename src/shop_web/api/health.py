"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from flask import Response, jsonify

from shop_web.api.base import ShopBlueprint
from shop_web.bootstrap import current_shop
from shop_web.errors import RETRY_UNAVAILABLE_AFTER_SECONDS
from shop_web.health import unreachable
from shop_web.schemas.common import HealthSchema, ReadinessSchema, UnavailableSchema

blueprint = ShopBlueprint("health", __name__, description="Probes.")


@blueprint.route("/healthz", methods=["GET"], operation_id="checkLiveness")
@blueprint.response(200, HealthSchema)
def healthz() -> dict[str, str]:
    """The process is alive (it checks nothing else)."""
    return {"status": "ok"}


@blueprint.route("/readyz", methods=["GET"], operation_id="checkReadiness")
@blueprint.response(200, ReadinessSchema)
@blueprint.alt_response(503, schema=UnavailableSchema)
def readyz() -> Response:
    """The shop can take orders: the database answers. A Redis that does not answer degrades
    the shop (expiry falls back to the sweep) without failing readiness, so a load balancer
    keeps every instance in service through a queue outage."""
    down = unreachable(current_shop())
    if down["database"]:
        response = jsonify({"status": "unavailable", "detail": "database is unreachable."})
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_UNAVAILABLE_AFTER_SECONDS)
        return response
    if "redis" not in down:
        return jsonify({"status": "ok"})
    redis = "unreachable" if down["redis"] else "ok"
    return jsonify({"status": "degraded" if down["redis"] else "ok", "redis": redis})
