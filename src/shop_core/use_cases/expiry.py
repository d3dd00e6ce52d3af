"""Timing out orders that were not paid before their deadline."""

from __future__ import annotations

from itertools import chain

from shop_core.catalogue import per_product
from shop_core.orders import OrderEvent, OrderStatus, StockEffect, transition_for
from shop_core.ports import Clock, UnitOfWork

SWEEP_BATCH_SIZE = 1000


def expire_order(uow: UnitOfWork, clock: Clock, order_id: int) -> bool:
    """Time out one order if it is still pending past its deadline; True if this call did.
    Safe to run any number of times, concurrently with callbacks and sweeps."""
    with uow:
        order = uow.orders.get(order_id)
        now = clock.now()
        if order is None or not order.is_overdue(now):
            return False
        previous = order.status
        move = order.apply(OrderEvent.EXPIRED, now)
        if not uow.orders.update(order, expected_status=previous):
            return False
        if move.stock is StockEffect.RELEASE:
            uow.products.release(order.stock_lines)
        uow.commit()
    return True


def expire_overdue_orders(uow: UnitOfWork, clock: Clock,
                          batch_size: int = SWEEP_BATCH_SIZE) -> int:
    """Time out every overdue pending order, a batch per transaction; returns how many.
    Concurrent sweeps skip each other's rows, so each order is expired once."""
    move = transition_for(OrderStatus.PENDING, OrderEvent.EXPIRED)
    expired = 0
    while True:
        with uow:
            moved = uow.orders.expire_overdue(clock.now(), batch_size, move.target)
            if not moved:
                return expired
            if move.stock is StockEffect.RELEASE:
                uow.products.release(per_product(chain.from_iterable(moved.values())))
            uow.commit()
        expired += len(moved)

