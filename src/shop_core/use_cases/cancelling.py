"""A customer letting go of an order they have not paid.

The order moves to `cancelled` and its stock returns in one transaction; only after the
commit is the provider asked to close the payment, best effort. A payment the provider still
takes follows the late-payment rule (the stock is taken again, or the order is flagged)."""

from __future__ import annotations

import hashlib
import logging

from attrs import frozen

from shop_core.errors import Conflict, IdempotencyMismatch, NotFound
from shop_core.orders import Order, OrderEvent
from shop_core.ports import Clock, IdempotencyRecord, IntentionCloser, UnitOfWork
from shop_core.use_cases.transitions import move

log = logging.getLogger(__name__)

# A conditional update loses only to a writer that settled the order (a callback, expiry):
# the next attempt then finds it no longer pending.
_ATTEMPTS = 3


@frozen
class CancelOrder:
    """`user_id` asks to cancel `order_id`; staff may cancel anyone's order."""

    order_id: int
    user_id: int
    is_staff: bool = False
    idempotency_key: str | None = None

    @property
    def fingerprint(self) -> str:
        """What a repeated Idempotency-Key must be the same request for."""
        return hashlib.sha256(f"cancel order {self.order_id}".encode()).hexdigest()


def cancel_order(uow: UnitOfWork, clock: Clock, closer: IntentionCloser,
                 command: CancelOrder) -> Order:
    """Cancel a pending order, return its stock, then close its payment at the provider.

    Raises `NotFound` for an order that is not the caller's (unless staff), `Conflict` when
    it is no longer pending, and `IdempotencyMismatch` when the key was used for another
    request. A repeated key for the same order returns the order and changes nothing."""
    for _ in range(_ATTEMPTS):
        settled = _cancel(uow, clock, command)
        if settled is None:
            continue
        order, is_new = settled
        if is_new:
            _close_payment(closer, order)
        return order
    raise Conflict("The order kept changing; try again.")  # pragma: no cover - see _ATTEMPTS


def _cancel(uow: UnitOfWork, clock: Clock,
            command: CancelOrder) -> tuple[Order, bool] | None:
    """One transaction: the order and whether this call cancelled it, or None when another
    writer changed it meanwhile (nothing was kept)."""
    with uow:
        order = uow.orders.get(command.order_id)
        if order is None or not (command.is_staff or order.user_id == command.user_id):
            raise NotFound("Order not found.")
        if _replayed(uow, command):
            return order, False
        if not order.can(OrderEvent.CANCEL):
            raise Conflict(f"An order that is {order.status.value} cannot be cancelled.")
        now = clock.now()
        if move(uow, order, OrderEvent.CANCEL, now) is None:
            return None
        if command.idempotency_key is not None and not uow.idempotency_keys.add(
                IdempotencyRecord(command.user_id, command.idempotency_key,
                                  command.fingerprint, command.order_id, now)):
            return None  # the same key committed meanwhile: the next attempt replays it
        uow.commit()
    return order, True


def _replayed(uow: UnitOfWork, command: CancelOrder) -> bool:
    if command.idempotency_key is None:
        return False
    record = uow.idempotency_keys.get(command.user_id, command.idempotency_key)
    if record is None:
        return False
    if record.fingerprint != command.fingerprint:
        raise IdempotencyMismatch(
            "This Idempotency-Key was already used with a different request.")
    return True


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
