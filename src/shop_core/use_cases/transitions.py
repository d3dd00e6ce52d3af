"""The one way an order changes status inside a unit of work.

Every state change (a callback, an expiry, a failed gateway, and the refunds, voids and
cancellations to come) is a row of the transition table in `shop_core.orders`, carried out
here: the status is written only if it is still the one the writer read, and the stock
moves as the transition says in the same transaction, and so does the event it announces
(`shop_core.events.ANNOUNCED`) in the outbox. A new event joins by adding its rows to the
table and its line to ANNOUNCED; its use case calls `move` and never repeats this sequence.
A change that is no move of the table (an order placed, a partial refund) calls `announce`.

Each path writes its events in one statement: one more round trip per change, and one per
batch for the set-based expiry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import chain
from typing import Any

from shop_core.catalogue import OutOfStock, Product, Reservation, StockLine, per_product
from shop_core.events import ANNOUNCED, Event, EventType, order_event, product_event
from shop_core.ledger import Balance
from shop_core.orders import (
    Order,
    OrderEvent,
    OrderStatus,
    StockEffect,
    Transition,
    expiring_statuses,
    transition_for,
)
from shop_core.ports import UnitOfWork


def move(uow: UnitOfWork, order: Order, event: OrderEvent, now: datetime, *,
         read_balance: Balance | None = None, **details: Any) -> Transition | None:
    """Move `order` (as read in `uow`'s transaction) by `event`, settle its stock, and
    write the event the move announces (with `details`, JSON-ready, beside the order).
    A caller that changed `order.balance` passes the balance it read as `read_balance`: the
    new one is written with the status, only if the stored one is still that.

    Returns the transition made, or None when another writer changed the order's status
    (or balance) since it was read: nothing is kept then, so the caller leaves the
    transaction without committing (and may reload and decide again). Raises
    `IllegalTransition` when the table has no such move, and `OutOfStock` when a transition
    that takes the stock again finds it gone; the caller must then roll back, since part
    of it may have been taken."""
    transition = transition_for(order.status, event)
    previous = order.status
    sold_out: list[Product] = []
    if transition.stock is StockEffect.RETAKE:
        sold_out = _take_effect(uow, transition, order.stock_lines)
    order.apply(event, now)
    if not uow.orders.update(order, expected_status=previous, expected_balance=read_balance):
        return None
    if transition.stock is StockEffect.RELEASE:
        _take_effect(uow, transition, order.stock_lines)
    announced = ANNOUNCED.get(event)
    events = [order_event(announced, order, now, **details)] if announced is not None else []
    _publish(uow, [*events, *sold_out_events(sold_out, order, now)])
    return transition


def move_overdue(uow: UnitOfWork, now: datetime, limit: int,
                 grace: timedelta = timedelta(0)) -> int:
    """`move(..., EXPIRED, ...)` for up to `limit` orders that may expire (see
    `Order.may_expire`: pending, or authorized and never captured) at once, set-based (the
    sweep's batch), with their stock settled in the same transaction. Returns how many
    orders moved; rows another writer holds are skipped, so each order moves once."""
    statuses = expiring_statuses()
    transition = transition_for(OrderStatus.PENDING, OrderEvent.EXPIRED)
    # One statement moves them all, so every status must time out the same way.
    assert all(transition_for(s, OrderEvent.EXPIRED) == transition for s in statuses)
    moved = uow.orders.expire_overdue(now, limit, transition.target, grace, statuses)
    if moved:
        _take_effect(uow, transition,
                     per_product(chain.from_iterable(order.stock_lines for order in moved)))
        announced = ANNOUNCED[OrderEvent.EXPIRED]
        _publish(uow, [order_event(announced, order, now) for order in moved])
    return len(moved)


def flag_for_refund(uow: UnitOfWork, order: Order, now: datetime, *,
                    read_balance: Balance | None = None) -> bool:
    """Mark `order` paid-but-not-honoured, keeping its status; False when another writer
    changed the status (or balance) since it was read (nothing is written then)."""
    order.flag_for_refund(now)
    if not uow.orders.update(order, expected_status=order.status,
                             expected_balance=read_balance):
        return False
    announce(uow, EventType.ORDER_NEEDS_REFUND, order, now)
    return True


def write_balance(uow: UnitOfWork, order: Order, now: datetime, read_balance: Balance) -> bool:
    """Write `order`'s changed balance (and `needs_refund`) keeping its status; False when
    another writer changed the order since it was read."""
    order.updated_at = now
    return uow.orders.update(order, expected_status=order.status,
                             expected_balance=read_balance)


def announce(uow: UnitOfWork, event_type: EventType, order: Order, now: datetime,
             **details: Any) -> None:
    """Write the event of a change to `order` made in this transaction; `details`
    (JSON-ready) join the order's snapshot."""
    _publish(uow, [order_event(event_type, order, now, **details)])


def publish_sold_out(uow: UnitOfWork, reservation: Reservation, order: Order,
                     now: datetime) -> None:
    """`product.out_of_stock` for each product `reservation` (for `order`) left with none."""
    _publish(uow, sold_out_events(reservation.sold_out, order, now))


def sold_out_events(products: Sequence[Product], order: Order, now: datetime) -> list[Event]:
    return [product_event(EventType.PRODUCT_OUT_OF_STOCK, product, now, order_id=order.id)
            for product in products]


def _publish(uow: UnitOfWork, events: Sequence[Event]) -> None:
    if events:
        uow.outbox.add(events)


def _take_effect(uow: UnitOfWork, transition: Transition,
                 lines: Sequence[StockLine]) -> list[Product]:
    """Release or take the stock again; the products a retake left with none."""
    if transition.stock is StockEffect.RELEASE:
        uow.products.release(lines)
    elif transition.stock is StockEffect.RETAKE:
        reservation = uow.products.reserve(lines)
        if not reservation.complete:
            raise OutOfStock(reservation.shortfalls)
        return list(reservation.sold_out)
    return []
