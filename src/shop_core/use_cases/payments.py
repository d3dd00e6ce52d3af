"""Applying a verified payment callback to its order, exactly once per transaction id.

A payment or an authorization moves its order through `decide`; a refund, void or capture
settles the ledger entry the shop reserved for it when it asked the provider (the answer may
come before or after the callback: whichever is second changes nothing), or is recorded as
one the provider started (its dashboard)."""

from __future__ import annotations

import logging
from datetime import datetime

from attrs import evolve

from shop_core.callbacks import REFUND_BY_HAND, Decision, decide
from shop_core.catalogue import OutOfStock
from shop_core.errors import IllegalTransition
from shop_core.ledger import ASKED_FOR, Movement, Result
from shop_core.orders import Order
from shop_core.payments import CallbackOutcome, PaymentCallback, PaymentEvent
from shop_core.ports import Clock, UnitOfWork
from shop_core.use_cases.settlement import book
from shop_core.use_cases.transitions import flag_for_refund, move

log = logging.getLogger(__name__)

# A conditional update can lose to a concurrent writer (expiry, another callback); each retry
# reloads the order and decides again, and one writer always wins, so few are ever needed.
_ATTEMPTS = 5


def apply_payment_callback(uow: UnitOfWork, clock: Clock,
                           callback: PaymentCallback) -> CallbackOutcome:
    """Record `callback` in the ledger and move its order accordingly, in one transaction.

    A transaction id seen before changes nothing (`DUPLICATE`), whatever its content.
    """
    stock_gone = False
    for _ in range(_ATTEMPTS):
        try:
            settled = _settle(uow, clock, callback, stock_gone=stock_gone)
        except OutOfStock:
            # Paid, but the stock went to someone else meanwhile. That attempt was rolled
            # back (it may have taken part of the stock); the next one flags the order.
            stock_gone = True
            continue
        if settled is None:
            continue  # lost a race for the order row: reload and decide again
        outcome, order = settled
        if outcome is not CallbackOutcome.DUPLICATE:
            _log_outcome(outcome, callback, order)
        return outcome
    raise IllegalTransition(f"Order for transaction {callback.transaction_id} kept changing.")


def _settle(uow: UnitOfWork, clock: Clock, callback: PaymentCallback, *,
            stock_gone: bool) -> tuple[CallbackOutcome, Order | None] | None:
    """One attempt, in one transaction: the outcome and the order it was about, or None when
    the order changed under it (nothing was kept)."""
    with uow:
        order = _find_order(uow, callback)
        # What the provider did after the payment is settled against the ledger, not decided.
        if order is not None and callback.movement in ASKED_FOR and not callback.pending:
            return _settle_operation(uow, clock, order, callback, stock_gone=stock_gone)
        decision = decide(order, callback)
        if stock_gone and decision.event is not None:
            decision = REFUND_BY_HAND
        now = clock.now()
        if order is not None and not _carry_out(uow, order, decision, callback, now):
            return None
        entry = _ledger_entry(callback, order, decision, now)
        if not uow.payment_events.add(entry):
            return CallbackOutcome.DUPLICATE, order  # leaving the block undoes any change
        uow.commit()
    return decision.outcome, order


def _settle_operation(uow: UnitOfWork, clock: Clock, order: Order, callback: PaymentCallback,
                      *, stock_gone: bool) -> tuple[CallbackOutcome, Order | None] | None:
    """A final refund, void or capture callback, inside `_settle`'s transaction."""
    known = uow.payment_events.get_by_transaction_id(callback.transaction_id)
    if known is not None and known.result.is_final:
        return CallbackOutcome.DUPLICATE, order  # its answer (or an earlier delivery) counted it
    reserved = known or _awaiting(uow, order, callback)
    now = clock.now()
    outcome = (CallbackOutcome.CAPTURED if callback.movement is Movement.CAPTURE
               else CallbackOutcome.REVERSAL_RECORDED)
    # One the shop did not ask for was made in the provider's dashboard.
    base = reserved or _ledger_entry(callback, order, Decision(outcome), now)
    entry = evolve(base, transaction_id=callback.transaction_id, success=callback.success,
                   pending=False, outcome=outcome, received_at=now, updated_at=now,
                   result=callback.result)
    held = reserved.amount.amount if reserved is not None else 0
    # The entry first, then the order: the entry decides which of an answer and its
    # callback, arriving at once, books the movement (the other finds it settled).
    if reserved is not None and not uow.payment_events.update(entry):
        return None  # settled meanwhile, or its transaction counted elsewhere: look again
    if reserved is None and not uow.payment_events.add(entry):
        return CallbackOutcome.DUPLICATE, order
    if not book(uow, order, entry, held, now, stock_gone=stock_gone):
        return None
    uow.commit()
    return outcome, order


def _awaiting(uow: UnitOfWork, order: Order, callback: PaymentCallback) -> PaymentEvent | None:
    """The movement the shop asked for that this callback answers: the oldest unsettled one
    of the same kind and amount whose transaction the provider has not named yet."""
    assert order.id is not None
    for entry in uow.payment_events.list_for_order(order.id):
        if (entry.movement is callback.movement and entry.amount == callback.amount
                and entry.transaction_id is None and not entry.result.is_final):
            return entry
    return None


def _carry_out(uow: UnitOfWork, order: Order, decision: Decision, callback: PaymentCallback,
               now: datetime) -> bool:
    """Make the decided change; False when a concurrent writer got to the order first."""
    read = order.balance
    if decision.takes_money:
        order.balance = read.settled(Movement.PAYMENT, 0, callback.amount.amount)
    if decision.event is not None:
        return move(uow, order, decision.event, now, read_balance=read) is not None
    if decision.flag_for_refund:
        return flag_for_refund(uow, order, now, read_balance=read)
    if decision.awaits_payment:
        order.await_payment(callback.awaiting, callback.payment_reference, now)
        return uow.orders.update(order, expected_status=order.status)
    return True


def _ledger_entry(callback: PaymentCallback, order: Order | None, decision: Decision,
                  now: datetime) -> PaymentEvent:
    if callback.pending:
        result = Result.PENDING
    elif decision.takes_money or decision.outcome is CallbackOutcome.AUTHORIZED:
        result = Result.SUCCEEDED
    else:
        # Declined, or a success the shop did not take (wrong amount, unknown order): it
        # counts in no balance, so the ledger must not call it a success either.
        result = Result.FAILED
    return PaymentEvent(
        transaction_id=callback.ledger_key, order_id=order.id if order else None,
        amount=callback.amount, success=callback.success, pending=callback.pending,
        is_reversal=callback.is_reversal, outcome=decision.outcome, received_at=now,
        movement=callback.movement, result=result,
        parent_transaction_id=callback.parent_transaction_id, updated_at=now,
    )


def _find_order(uow: UnitOfWork, callback: PaymentCallback) -> Order | None:
    if callback.provider_order_id:
        order = uow.orders.get_by_provider_order_id(callback.provider_order_id)
        if order is not None:
            return order
    order = uow.orders.get(callback.order_id) if callback.order_id is not None else None
    stored = order.payment.provider_order_id if order and order.payment else None
    if stored and callback.provider_order_id and stored != callback.provider_order_id:
        # The order id a callback names need not be covered by the provider's signature: a
        # transaction signed for another provider order must not settle this one.
        return None
    return order


def _log_outcome(outcome: CallbackOutcome, callback: PaymentCallback,
                 order: Order | None) -> None:
    if outcome in (CallbackOutcome.UNKNOWN_ORDER, CallbackOutcome.AMOUNT_MISMATCH,
                   CallbackOutcome.NEEDS_REFUND):
        log.warning("Payment transaction %s: %s (order %s, %s)", callback.transaction_id,
                    outcome.value, order.id if order else None, callback.amount)
    else:
        log.info("Payment transaction %s: %s (order %s)", callback.transaction_id,
                 outcome.value, order.id if order else None)
