"""Applying a verified payment callback to its order, exactly once per transaction id."""

from __future__ import annotations

import logging

from shop_core.errors import IllegalTransition
from shop_core.orders import Order, OrderEvent, OrderStatus, StockEffect
from shop_core.payments import (
    CallbackOutcome,
    PaymentCallback,
    PaymentEvent,
    order_id_from_reference,
)
from shop_core.ports import Clock, UnitOfWork

log = logging.getLogger(__name__)

# A conditional update can lose to a concurrent writer (expiry, another callback); each retry
# reloads the order and decides again, and one writer always wins, so few are ever needed.
_ATTEMPTS = 5


def apply_payment_callback(uow: UnitOfWork, clock: Clock, callback: PaymentCallback,
                           reference_prefix: str) -> CallbackOutcome:
    """Record `callback` in the ledger and move its order accordingly, in one transaction.

    A transaction id seen before changes nothing (`DUPLICATE`), whatever its content.
    """
    for _ in range(_ATTEMPTS):
        with uow:
            order = _find_order(uow, callback, reference_prefix)
            outcome, moved = _decide(uow, clock, order, callback)
            if moved is False:
                continue  # lost a race for the order row: reload and decide again
            event = PaymentEvent(
                transaction_id=callback.ledger_key,
                order_id=order.id if order else None, amount=callback.amount,
                success=callback.success, pending=callback.pending,
                is_reversal=callback.is_reversal, outcome=outcome, received_at=clock.now(),
            )
            if not uow.payment_events.add(event):
                return CallbackOutcome.DUPLICATE  # leaving the block undoes any change
            uow.commit()
        _log_outcome(outcome, callback, order)
        return outcome
    raise IllegalTransition(f"Order for transaction {callback.transaction_id} kept changing.")


def _find_order(uow: UnitOfWork, callback: PaymentCallback, prefix: str) -> Order | None:
    if callback.provider_order_id:
        order = uow.orders.get_by_provider_order_id(callback.provider_order_id)
        if order is not None:
            return order
    order_id = order_id_from_reference(prefix, callback.merchant_reference)
    order = uow.orders.get(order_id) if order_id is not None else None
    stored = order.payment.provider_order_id if order and order.payment else None
    if stored and callback.provider_order_id and stored != callback.provider_order_id:
        # The merchant reference is not covered by the provider's signature: a transaction
        # signed for another provider order must not settle this one.
        return None
    return order


def _decide(uow: UnitOfWork, clock: Clock, order: Order | None,
            callback: PaymentCallback) -> tuple[CallbackOutcome, bool | None]:
    """The outcome, and whether a conditional order update succeeded (None: none tried)."""
    if order is None:
        return CallbackOutcome.UNKNOWN_ORDER, None
    if callback.is_reversal:
        return CallbackOutcome.REVERSAL_RECORDED, None
    if callback.pending:
        return CallbackOutcome.STILL_PENDING, None
    if callback.amount != order.total:
        return CallbackOutcome.AMOUNT_MISMATCH, None
    if callback.success:
        return _paid(uow, clock, order)
    if order.can(OrderEvent.PAYMENT_DECLINED):
        return CallbackOutcome.DECLINED, _move(uow, clock, order, OrderEvent.PAYMENT_DECLINED)
    return CallbackOutcome.IGNORED, None


def _paid(uow: UnitOfWork, clock: Clock, order: Order) -> tuple[CallbackOutcome, bool | None]:
    if order.status is OrderStatus.SUCCESS:
        # A second, distinct successful transaction: the customer paid twice.
        order.flag_for_refund(clock.now())
        return CallbackOutcome.NEEDS_REFUND, uow.orders.update(
            order, expected_status=OrderStatus.SUCCESS)
    outcome = (CallbackOutcome.PAID if order.status is OrderStatus.PENDING
               else CallbackOutcome.LATE_PAID)
    previous = order.status
    move = order.apply(OrderEvent.PAYMENT_SUCCEEDED, clock.now())
    if move.stock is StockEffect.RETAKE and uow.products.reserve(order.stock_lines):
        # Paid, but the stock went to someone else meanwhile: keep the order as it was.
        order.status = previous
        order.flag_for_refund(clock.now())
        return CallbackOutcome.NEEDS_REFUND, uow.orders.update(order, expected_status=previous)
    return outcome, uow.orders.update(order, expected_status=previous)


def _move(uow: UnitOfWork, clock: Clock, order: Order, event: OrderEvent) -> bool:
    previous = order.status
    move = order.apply(event, clock.now())
    if not uow.orders.update(order, expected_status=previous):
        return False
    if move.stock is StockEffect.RELEASE:
        uow.products.release(order.stock_lines)
    return True


def _log_outcome(outcome: CallbackOutcome, callback: PaymentCallback,
                 order: Order | None) -> None:
    if outcome in (CallbackOutcome.UNKNOWN_ORDER, CallbackOutcome.AMOUNT_MISMATCH,
                   CallbackOutcome.NEEDS_REFUND):
        log.warning("Payment transaction %s: %s (order %s, %s)", callback.transaction_id,
                    outcome.value, order.id if order else None, callback.amount)
    else:
        log.info("Payment transaction %s: %s (order %s)", callback.transaction_id,
                 outcome.value, order.id if order else None)
