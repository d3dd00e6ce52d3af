"""A customer letting go of an order they have not paid.

The order moves to `cancelled` and its stock returns in one transaction; only after the
commit is the provider asked to close the payment, best effort. A payment the provider still
takes follows the late-payment rule (the stock is taken again, or the order is flagged)."""

from __future__ import annotations

import logging

from attrs import frozen

from shop_core.errors import Conflict, NotFound
from shop_core.orders import Order, OrderEvent
from shop_core.ports import Clock, IntentionCloser, UnitOfWork
from shop_core.use_cases.transitions import move

log = logging.getLogger(__name__)

# A conditional update loses only to a writer that settled the order (a callback, expiry):
# the next attempt then finds it no longer pending.
_ATTEMPTS = 3


@frozen
class CancelOrder:
    """`user_id` asks to cancel `order_id`; staff may cancel anyone's order. (Retries are
    made safe by the request's idempotency key, `shop_core.use_cases.idempotency`.)"""

    order_id: int
    user_id: int
    is_staff: bool = False


def cancel_order(uow: UnitOfWork, clock: Clock, closer: IntentionCloser,
                 command: CancelOrder) -> Order:
    """Cancel a pending order, return its stock, then close its payment at the provider.

    Raises `NotFound` for an order that is not the caller's (unless staff), and `Conflict`
    when it is no longer pending."""
    for _ in range(_ATTEMPTS):
        settled = _cancel(uow, clock, command)
        if settled is None:
            continue
        _close_payment(closer, settled)
        return settled
    raise Conflict("The order kept changing; try again.")  # pragma: no cover - see _ATTEMPTS


def _cancel(uow: UnitOfWork, clock: Clock, command: CancelOrder) -> Order | None:
    """One transaction: the cancelled order, or None when another writer changed it
    meanwhile (nothing was kept)."""
    with uow:
        order = uow.orders.get(command.order_id)
        if order is None or not (command.is_staff or order.user_id == command.user_id):
            raise NotFound("Order not found.")
        if not order.can(OrderEvent.CANCEL):
            raise Conflict(f"An order that is {order.status.value} cannot be cancelled.")
        now = clock.now()
        if move(uow, order, OrderEvent.CANCEL, now) is None:
            return None
        uow.commit()
    return order


def _close_payment(closer: IntentionCloser, order: Order) -> None:
    if order.payment is None:
        return
    try:
        closer.close_intention(order)
    except Exception:
        # The cancellation is committed and stands; a payment the provider takes anyway
        # follows the late-payment rule.
        log.warning("Could not close the payment of cancelled order %s", order.id,
                    exc_info=True)
