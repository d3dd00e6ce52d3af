"""Orders: placing one, and reading them back."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from shop_core.errors import Rule
from shop_core.ledger import Movement, Result
from shop_core.orders import MAX_CART_LINES, MAX_LINE_QUANTITY, Order, OrderStatus
from shop_core.payments import PaymentEvent, PaymentState
from shop_core.use_cases.operations import REASON_MAX_LENGTH
from shop_web.messages import message
from shop_web.schemas.common import CountBetween, PageQuerySchema, PageSchema
from shop_web.schemas.fields import MAX_ID, Amount, UtcDateTime, identifier, strict_integer

STATUSES = [status.value for status in OrderStatus]
IDEMPOTENCY_KEY_PATTERN = r"^[\x20-\x7e]{1,255}$"
# Who started a ledger entry the staff did not.
PROVIDER = "provider"


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
        metadata={"description": "Makes retries safe: the same key and body replay the "
                                 "first answer (with `Idempotent-Replayed: true`); the "
                                 "same key with another body is 422. Keys live 24 hours."},
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
    paid_amount = Amount(required=True, metadata={
        "description": "What the order's ledger says was captured."})
    refunded_amount = Amount(required=True, metadata={
        "description": "What went back to the customer (refunds and voids)."})
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


class RequiredIdempotencyHeaderSchema(Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key", required=True,
        validate=validate.Regexp(IDEMPOTENCY_KEY_PATTERN,
                                 error="Use 1 to 255 printable ASCII characters."),
        metadata={"description": "Required: the same key and body replay the first answer "
                                 "(status and body, with `Idempotent-Replayed: true`); the "
                                 "same key with another body is 422. Keys live 24 hours."},
    )


class RefundRequestSchema(Schema):
    amount = Amount(metadata={"description": "Default: everything still refundable."})
    restock = fields.Boolean(load_default=False, metadata={
        "description": "Put the order's stock back. Only for a refund of everything left "
                       "on an order that still holds its stock (a partial refund names no "
                       "lines, so the shop cannot tell which goods came back)."})
    reason = fields.String(load_default="", validate=validate.Length(max=REASON_MAX_LENGTH))


class CaptureRequestSchema(Schema):
    amount = Amount(metadata={"description": "Default: all that was authorized."})


class LedgerEntrySchema(Schema):
    id = fields.Integer(required=True)
    type = fields.Enum(Movement, by_value=True, required=True, attribute="movement")
    amount = Amount(required=True)
    currency = fields.Method("_currency", required=True, metadata={"type": "string"})
    outcome = fields.Enum(Result, by_value=True, required=True, attribute="result", metadata={
        "description": "`unknown`: the provider did not answer in time; the amount stays "
                       "held until its callback (or an inquiry) settles it."})
    started_by = fields.Method("_started_by", required=True, metadata={
        "oneOf": [{"type": "integer"}, {"type": "string", "enum": ["provider"]}],
        "description": "The staff member's user id, or `provider` for the customer's own "
                       "payment and for anything made in Paymob's dashboard."})
    transaction_id = fields.Method("_transaction_id", required=True, metadata={
        "type": "string", "nullable": True,
        "description": "Paymob's transaction id; null until Paymob named it."})
    parent_transaction_id = fields.String(required=True, allow_none=True)
    reason = fields.String(required=True)
    restock = fields.Boolean(required=True)
    created_at = UtcDateTime(required=True, attribute="received_at")
    updated_at = UtcDateTime(required=True, allow_none=True)

    def _currency(self, entry: PaymentEvent) -> str:
        return entry.amount.currency

    def _started_by(self, entry: PaymentEvent) -> int | str:
        return entry.started_by if entry.started_by is not None else PROVIDER

    def _transaction_id(self, entry: PaymentEvent) -> str | None:
        # A pending notice is stored under its own key; it names the same transaction.
        tid = entry.transaction_id
        return tid.removesuffix(":pending") if tid is not None else None


class LedgerSchema(Schema):
    order_id = fields.Integer(required=True)
    paid_amount = Amount(required=True)
    refunded_amount = Amount(required=True)
    entries = fields.List(fields.Nested(LedgerEntrySchema), required=True)
