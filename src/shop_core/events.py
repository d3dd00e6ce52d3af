"""What the shop tells the outside world: events about orders and products.

An event is written to the outbox in the same transaction as the change it describes (see
`shop_core.use_cases.transitions`), so neither exists without the other. Its `data` is a
snapshot of the order as the API shows it to staff, taken at the moment of the change; other
services import these types to read what the shop publishes."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from attrs import field, frozen

from shop_core.catalogue import Product
from shop_core.orders import Order, OrderEvent


class EventType(enum.Enum):
    """Every kind of event the shop publishes; the value is the wire name."""

    ORDER_PLACED = "order.placed"
    ORDER_PAID = "order.paid"
    ORDER_PAYMENT_FAILED = "order.payment_failed"
    ORDER_EXPIRED = "order.expired"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_REFUNDED = "order.refunded"
    ORDER_VOIDED = "order.voided"
    ORDER_NEEDS_REFUND = "order.needs_refund"
    PRODUCT_OUT_OF_STOCK = "product.out_of_stock"


# What each move of the transition table announces. A new row of the table names its event
# here, on one line; a move without an entry announces nothing.
ANNOUNCED: dict[OrderEvent, EventType] = {
    OrderEvent.PAYMENT_SUCCEEDED: EventType.ORDER_PAID,
    OrderEvent.PAYMENT_DECLINED: EventType.ORDER_PAYMENT_FAILED,
    OrderEvent.GATEWAY_FAILED: EventType.ORDER_PAYMENT_FAILED,
    OrderEvent.EXPIRED: EventType.ORDER_EXPIRED,
    OrderEvent.CANCEL: EventType.ORDER_CANCELLED,
    OrderEvent.CAPTURED: EventType.ORDER_PAID,
    OrderEvent.REFUNDED: EventType.ORDER_REFUNDED,
    OrderEvent.REFUNDED_RESTOCKED: EventType.ORDER_REFUNDED,
    OrderEvent.VOIDED: EventType.ORDER_VOIDED,
}


def new_event_id() -> str:
    return str(uuid.uuid4())


@frozen
class Event:
    """One thing that happened. `id` is unique (receivers deduplicate on it); `data` is
    JSON-ready: the order (or, for product events, the product) as the API shows it."""

    type: EventType
    created_at: datetime
    order_id: int | None
    data: Mapping[str, Any]
    id: str = field(factory=new_event_id)

    def body(self) -> dict[str, Any]:
        """The event as it travels: `{id, type, created_at, data}`."""
        return {"id": self.id, "type": self.type.value,
                "created_at": isoformat(self.created_at), "data": dict(self.data)}


def order_event(event_type: EventType, order: Order, now: datetime,
                **details: Any) -> Event:
    """An event about `order` as it is now; `details` (JSON-ready) join the snapshot, e.g. the
    amount of a refund."""
    return Event(type=event_type, created_at=now, order_id=order.id,
                 data={**order_snapshot(order), **details})


def product_event(event_type: EventType, product: Product, now: datetime,
                  order_id: int | None = None) -> Event:
    """An event about `product`; `order_id` names the order that caused it, if one did."""
    return Event(type=event_type, created_at=now, order_id=order_id,
                 data=product_snapshot(product))


def order_snapshot(order: Order) -> dict[str, Any]:
    """The order as the API shows it to staff (a test holds the two equal)."""
    return {
        "id": order.id,
        "status": order.status.value,
        "total": order.total.format(),
        "currency": order.currency,
        "paid_amount": order.paid_amount.format(),
        "refunded_amount": order.refunded_amount.format(),
        "items": [{"product_id": line.product_id, "name": line.name,
                   "unit_price": line.unit_price.format(), "quantity": line.quantity,
                   "line_total": line.line_total.format()} for line in order.lines],
        "payment_url": order.payment.checkout_url if order.payment is not None else None,
        "expires_at": isoformat(order.expires_at),
        "needs_refund": order.needs_refund,
        "payment_state": order.payment_state.value if order.payment_state else None,
        "payment_reference": order.payment_reference,
        "payment_method": order.payment_method,
        "created_at": isoformat(order.created_at),
        "updated_at": isoformat(order.updated_at),
        "user_id": order.user_id,
    }


def product_snapshot(product: Product) -> dict[str, Any]:
    """The product as the API shows it (a test holds the two equal)."""
    return {
        "id": product.id, "name": product.name, "description": product.description,
        "price": product.price.format(), "stock": product.stock,
        "is_deleted": product.is_deleted, "created_at": isoformat(product.created_at),
        "updated_at": isoformat(product.updated_at),
    }


def isoformat(value: datetime) -> str:
    """ISO 8601 in UTC with its offset, as the API writes times."""
    # Times read from the database are in UTC already: no conversion to make.
    return (value if value.tzinfo is UTC else value.astimezone(UTC)).isoformat()


EventHandler = Callable[[Event], None]
