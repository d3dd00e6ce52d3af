"""Webhooks: staff subscribe targets to the shop's events and watch the deliveries."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from shop_core.events import EventType
from shop_core.subscriptions import Delivery, DeliveryQuery, Subscription
from shop_core.use_cases.subscriptions import (
    Subscribe,
    get_subscription,
    list_deliveries,
    list_subscriptions,
)
from shop_web.api.base import ShopBlueprint
from shop_web.api.pagination import page_body, page_request
from shop_web.bootstrap import current_shop
from shop_web.schemas.common import PageQuerySchema
from shop_web.schemas.fields import MAX_ID
from shop_web.schemas.webhooks import (
    AttemptSchema,
    DeliveryPageSchema,
    DeliverySchema,
    NewWebhookSchema,
    SubscribeSchema,
    WebhookPageSchema,
    WebhookSchema,
)

blueprint = ShopBlueprint("webhooks", __name__, url_prefix="/api/v1",
                          description="Signed HTTP deliveries of the shop's events (staff).")

ITEM = f"/webhooks/<int(min=1, max={MAX_ID}):subscription_id>/"
DELIVERY = f"{ITEM}deliveries/<int(min=1, max={MAX_ID}):delivery_id>/"
_WEBHOOKS = WebhookSchema(many=True)
_DELIVERIES = DeliverySchema(many=True)
_ATTEMPTS = AttemptSchema(many=True)


@blueprint.route("/webhooks/", methods=["POST"], operation_id="createWebhook")
@blueprint.signed_in(staff=True)
@blueprint.arguments(SubscribeSchema)
@blueprint.response(201, NewWebhookSchema)
def create_webhook(data: dict[str, Any]) -> Subscription:
    """Subscribe a target to event types. The answer holds the signing secret, shown this
    once. A target that is not https (in production) or resolves to a private, loopback,
    link-local or metadata address is 400."""
    return current_shop().webhooks.subscribe(Subscribe(
        url=data["url"], events=frozenset(EventType(name) for name in data["events"]),
        description=data["description"]))


@blueprint.route("/webhooks/", methods=["GET"], operation_id="listWebhooks")
@blueprint.signed_in(staff=True)
@blueprint.arguments(PageQuerySchema, location="query")
@blueprint.response(200, WebhookPageSchema)
@blueprint.errors(404)
def list_webhooks(args: dict[str, Any]) -> Response:
    """Every subscription, oldest first, with whether it is disabled and its last error."""
    body = page_body(list_subscriptions(current_shop().reader(), page_request(args)))
    body["results"] = _WEBHOOKS.dump(body["results"])
    return jsonify(body)


@blueprint.route(ITEM, methods=["GET"], operation_id="getWebhook")
@blueprint.signed_in(staff=True)
@blueprint.response(200, WebhookSchema)
@blueprint.errors(404)
def read_webhook(subscription_id: int) -> Subscription:
    return get_subscription(current_shop().reader(), subscription_id)


@blueprint.route(ITEM, methods=["DELETE"], operation_id="deleteWebhook")
@blueprint.signed_in(staff=True)
@blueprint.response(204)
@blueprint.errors(404)
def delete_webhook(subscription_id: int) -> Response:
    """Stop delivering to the target; its deliveries are deleted with it."""
    current_shop().webhooks.unsubscribe(subscription_id)
    return Response(status=204)


@blueprint.route(f"{ITEM}deliveries/", methods=["GET"], operation_id="listWebhookDeliveries")
@blueprint.signed_in(staff=True)
@blueprint.arguments(PageQuerySchema, location="query")
@blueprint.response(200, DeliveryPageSchema)
@blueprint.errors(404)
def list_webhook_deliveries(args: dict[str, Any], subscription_id: int) -> Response:
    """The subscription's deliveries, newest first, each with every attempt."""
    page, attempts = list_deliveries(current_shop().reader(),
                                     DeliveryQuery(subscription_id, page_request(args)))
    body = page_body(page)
    body["results"] = [_with_attempts(delivery, attempts) for delivery in body["results"]]
    return jsonify(body)


@blueprint.route(f"{DELIVERY}replay/", methods=["POST"], operation_id="replayWebhookDelivery")
@blueprint.signed_in(staff=True)
@blueprint.response(202, DeliverySchema)
@blueprint.errors(404, 409)
def replay_webhook_delivery(subscription_id: int, delivery_id: int) -> Response:
    """Send the delivery's event again, now (a disabled target is enabled again); 409 while
    it is being sent."""
    delivery = current_shop().webhooks.replay(subscription_id, delivery_id)
    response = jsonify(DeliverySchema().dump(delivery))
    response.status_code = 202
    return response


def _with_attempts(delivery: Delivery, attempts: dict[int, list[Any]]) -> dict[str, Any]:
    dumped: dict[str, Any] = _DELIVERIES.dump([delivery])[0]
    dumped["attempt_log"] = _ATTEMPTS.dump(attempts.get(delivery.id or 0, []))
    return dumped
