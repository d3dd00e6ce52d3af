"""Webhook subscriptions and their deliveries."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from shop_core.events import EventType
from shop_core.subscriptions import (
    DESCRIPTION_MAX_LENGTH,
    URL_MAX_LENGTH,
    DeliveryStatus,
    Subscription,
)
from shop_web.schemas.common import PageSchema
from shop_web.schemas.fields import UtcDateTime

EVENT_TYPES = [event_type.value for event_type in EventType]


class SubscribeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    url = fields.String(required=True, validate=validate.Length(min=1, max=URL_MAX_LENGTH),
                        metadata={"example": "https://erp.example.com/shop-events",
                                  "description": "https in production, to a public address."})
    events = fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)), required=True,
        validate=validate.Length(min=1, max=len(EVENT_TYPES)),
        metadata={"description": "The event types to deliver: " + ", ".join(EVENT_TYPES)})
    description = fields.String(load_default="",
                                validate=validate.Length(max=DESCRIPTION_MAX_LENGTH))


class WebhookSchema(Schema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    events = fields.Method("_events", required=True,
                           metadata={"type": "array", "items": {"type": "string"}})
    description = fields.String(required=True)
    created_at = UtcDateTime(required=True)
    disabled = fields.Method("_disabled", required=True, metadata={
        "type": "boolean",
        "description": "Failed for a day and stopped; replaying a delivery starts it again."})
    disabled_at = UtcDateTime(required=True, allow_none=True)
    last_error = fields.String(required=True, allow_none=True, metadata={
        "description": "What the target's last failed delivery got."})

    def _events(self, subscription: Subscription) -> Any:
        return sorted(event.value for event in subscription.events)

    def _disabled(self, subscription: Subscription) -> Any:
        return subscription.disabled_at is not None


class NewWebhookSchema(WebhookSchema):
    secret = fields.String(required=True, metadata={
        "description": "Signs every delivery (Shop-Signature). Shown this once: store it."})


class WebhookPageSchema(PageSchema):
    results = fields.List(fields.Nested(WebhookSchema), required=True)


class AttemptSchema(Schema):
    attempted_at = UtcDateTime(required=True)
    status_code = fields.Integer(required=True, allow_none=True)
    duration_ms = fields.Integer(required=True)
    error = fields.String(required=True, allow_none=True)


class DeliverySchema(Schema):
    id = fields.Integer(required=True)
    event_id = fields.String(required=True)
    event_type = fields.Enum(EventType, by_value=True, required=True)
    order_id = fields.Integer(required=True, allow_none=True)
    status = fields.Enum(DeliveryStatus, by_value=True, required=True)
    attempts = fields.Integer(required=True)
    created_at = UtcDateTime(required=True)
    next_attempt_at = UtcDateTime(required=True)
    delivered_at = UtcDateTime(required=True, allow_none=True)
    last_status_code = fields.Integer(required=True, allow_none=True)
    last_error = fields.String(required=True, allow_none=True)
    attempt_log = fields.List(fields.Nested(AttemptSchema), metadata={
        "description": "Every attempt, oldest first."})


class DeliveryPageSchema(PageSchema):
    results = fields.List(fields.Nested(DeliverySchema), required=True)
