"""Orders: placing one, and reading them back."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from shop_core.errors import Rule
from shop_core.orders import MAX_CART_LINES, MAX_LINE_QUANTITY, Order, OrderStatus
from shop_core.payments import PaymentState
from shop_web.messages import message
from shop_web.schemas.common import CountBetween, PageQuerySchema, PageSchema
from shop_web.schemas.fields import MAX_ID, Amount, UtcDateTime, identifier, strict_integer

STATUSES = [status.value for status in OrderStatus]
IDEMPOTENCY_KEY_PATTERN = r"^[\x20-\x7e]{1,255}$"


class CartItemSchema(Schema):
    product_id = identifier(required=True)
    quantity = strict_integer(required=True, validate=validate.Range(
        min=1, max=MAX_LINE_QUANTITY, error=message(Rule.QUANTITY_RANGE, MAX_LINE_QUANTITY)))


class PlaceOrderSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    payment_method = fields.String(validate=validate.Length(min=1, max=32), metadata={
        "example": "card",
        "description": "One of the methods the shop takes (card, wallet, kiosk, "
                       "installments, …); the order holds its stock for that method's "
                       "payment window. Without it: the methods of the default window. "
                       "Paying by wallet needs a phone number in the profile."})

    cart_items = fields.List(
        fields.Nested(CartItemSchema), required=True,
        validate=CountBetween(1, MAX_CART_LINES, too_few=message(Rule.NO_ITEMS),
                              too_many=message(Rule.TOO_MANY_ITEMS, MAX_CART_LINES)),
        metadata={"description": "Lines naming the same product are merged."},
    )


class IdempotencyHeaderSchema(Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=validate.Regexp(IDEMPOTENCY_KEY_PATTERN,
                                 error="Use 1 to 255 printable ASCII characters."),
        metadata={"description": "Makes retries safe: the same key and request return the "
                                 "original order; the same key with another request is 422."},
    )


class OrderItemSchema(Schema):
    product_id = fields.Integer(required=True)
    name = fields.String(required=True)
    unit_price = Amount(required=True)
    quantity = fields.Integer(required=True)
    line_total = Amount(required=True)


class OrderSchema(Schema):
    id = fields.Integer(required=True)
    status = fields.Enum(OrderStatus, by_value=True, required=True)
    total = Amount(required=True)
    currency = fields.String(required=True, metadata={"example": "EGP"})
    items = fields.List(fields.Nested(OrderItemSchema), required=True, attribute="lines")
    payment_url = fields.Method("_payment_url", required=True, metadata={
        "type": "string", "nullable": True,
        "description": "Where the customer pays (Paymob unified checkout)."})
    expires_at = UtcDateTime(required=True, metadata={
        "description": "When the reservation lapses if the order is not paid."})
    needs_refund = fields.Boolean(required=True)
    payment_state = fields.Enum(PaymentState, by_value=True, required=True, allow_none=True,
                                metadata={"description": (
                                    "A payment under way while the order is pending: a kiosk "
                                    "bill to pay in cash, an instalment plan awaiting "
                                    "approval. Null otherwise.")})
    payment_reference = fields.String(required=True, allow_none=True, metadata={
        "description": "The reference the customer pays with (a kiosk bill reference), "
                       "when the provider issued one."})
    payment_method = fields.String(required=True, allow_none=True, metadata={
        "description": "The method chosen when placing the order; null: any of the "
                       "default-window methods."})
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    user_id = fields.Integer(metadata={"description": "Only shown to staff."})

    def _payment_url(self, order: Order) -> Any:
        return order.payment.checkout_url if order.payment is not None else None


class ShortfallSchema(Schema):
    product_id = fields.Integer(required=True)
    requested = fields.Integer(required=True)
    available = fields.Integer(required=True)


class OutOfStockSchema(Schema):
    detail = fields.String(required=True)
    unavailable = fields.List(fields.Nested(ShortfallSchema), required=True)


class OrderQuerySchema(PageQuerySchema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    user_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID), metadata={
        "description": "Staff only (ignored for others): one customer's orders."})
    needs_refund = fields.Boolean(metadata={
        "description": "Staff only (ignored for others): paid orders to refund by hand."})


class OrderPageSchema(PageSchema):
    results = fields.List(fields.Nested(OrderSchema), required=True)
