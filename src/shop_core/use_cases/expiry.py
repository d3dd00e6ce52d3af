"""Timing out orders that were not paid before their deadline.

An order whose payment was opened at the provider waits, past its deadline, until the shop
has asked the provider about it (reconciliation) or `grace` has passed: a payment whose
callback was lost then makes the order `success` instead of `timeout`. With no grace (the
default) expiry is exact."""

from __future__ import annotations

from datetime import timedelta

from shop_core.orders import OrderEvent
from shop_core.ports import Clock, UnitOfWork
from shop_core.use_cases.transitions import move, move_overdue

SWEEP_BATCH_SIZE = 1000
NO_GRACE = timedelta(0)


def expire_order(uow: UnitOfWork, clock: Clock, order_id: int,
                 grace: timedelta = NO_GRACE) -> bool:
    """Time out one order if it is still pending past its deadline (and its grace, see the
    module); True if this call did. Safe to run any number of times, concurrently with
    callbacks and sweeps."""
    with uow:
        order = uow.orders.get(order_id)
        now = clock.now()
        if order is None or not order.may_expire(now, grace):
            return False
        if move(uow, order, OrderEvent.EXPIRED, now) is None:
            return False  # a callback or a sweep settled it first
        uow.commit()
    return True


def expire_overdue_orders(uow: UnitOfWork, clock: Clock,
                          batch_size: int = SWEEP_BATCH_SIZE,
                          grace: timedelta = NO_GRACE) -> int:
    """Time out every overdue pending order (past its grace, see the module), a batch per
    transaction; returns how many. Concurrent sweeps skip each other's rows, so each order
    is expired once."""
    expired = 0
    while True:
        with uow:
            moved = move_overdue(uow, clock.now(), batch_size, grace)
            if not moved:
                return expired
            uow.commit()
        expired += moved
