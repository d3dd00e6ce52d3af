"""The one way an order changes status inside a unit of work.

Every state change (a callback, an expiry, a failed gateway, and the refunds, voids and
cancellations to come) is a row of the transition table in `shop_core.orders`, carried out
here: the status is written only if it is still the one the writer read, and the stock
moves as the transition says in the same transaction. A new event joins by adding its rows
to the table; its use case calls `move` and never repeats this sequence."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import chain

from shop_core.catalogue import OutOfStock, StockLine, per_product
from shop_core.orders import (
    Order,
    OrderEvent,
    OrderStatus,
    StockEffect,
    Transition,
    transition_for,
)
from shop_core.ports import UnitOfWork


def move(uow: UnitOfWork, order: Order, event: OrderEvent, now: datetime) -> Transition | None:
    """Move `order` (as read in `uow`'s transaction) by `event`, and settle its stock.

    Returns the transition made, or None when another writer changed the order's status
    since it was read: nothing is kept then, so the caller leaves the transaction without
    committing (and may reload and decide again). Raises `IllegalTransition` when the table
    has no such move, and `OutOfStock` when a transition that takes the stock again finds it
    gone; the caller must then roll back, since part of it may have been taken."""
    transition = transition_for(order.status, event)
    previous = order.status
    if transition.stock is StockEffect.RETAKE:
        _take_effect(uow, transition, order.stock_lines)
    order.apply(event, now)
    if not uow.orders.update(order, expected_status=previous):
        return None
    if transition.stock is StockEffect.RELEASE:
        _take_effect(uow, transition, order.stock_lines)
    return transition


def move_overdue(uow: UnitOfWork, now: datetime, limit: int,
                 grace: timedelta = timedelta(0)) -> int:
    """`move(..., EXPIRED, ...)` for up to `limit` pending orders that may expire (see
    `Order.may_expire`) at once, set-based (the sweep's batch), with their stock settled in
    the same transaction. Returns how many orders moved; rows another writer holds are
    skipped, so each order moves once."""
    transition = transition_for(OrderStatus.PENDING, OrderEvent.EXPIRED)
    moved = uow.orders.expire_overdue(now, limit, transition.target, grace)
    if moved:
        _take_effect(uow, transition, per_product(chain.from_iterable(moved.values())))
    return len(moved)


def flag_for_refund(uow: UnitOfWork, order: Order, now: datetime) -> bool:
    """Mark `order` paid-but-not-honoured, keeping its status; False when another writer
    changed the status since it was read (nothing is written then)."""
    order.flag_for_refund(now)
    return uow.orders.update(order, expected_status=order.status)


def _take_effect(uow: UnitOfWork, transition: Transition, lines: Sequence[StockLine]) -> None:
    if transition.stock is StockEffect.RELEASE:
        uow.products.release(lines)
    elif transition.stock is StockEffect.RETAKE:
        shortfalls = uow.products.reserve(lines)
        if shortfalls:
            raise OutOfStock(shortfalls)
