"""Booking a settled movement of money on its order: the one step that changes an order's
balance, whether the provider's answer or its callback brought the news.

The balance and the status are written together, conditional on the balance and status the
writer read; a writer that loses the race leaves without committing and decides again. So
each movement counts once however answers and callbacks interleave, and `refunded` never
runs ahead of what the ledger says."""

from __future__ import annotations

from datetime import datetime

from attrs import evolve

from shop_core.catalogue import OutOfStock
from shop_core.events import EventType
from shop_core.ledger import MONEY_BACK, Balance, Movement, Result
from shop_core.orders import Order, OrderEvent, OrderStatus, transition_for
from shop_core.payments import PaymentEvent
from shop_core.ports import Clock, UnitOfWork
from shop_core.use_cases.transitions import announce, flag_for_refund, move, write_balance

# A conditional update can lose to a concurrent writer; each attempt reloads and decides
# again, and one writer always wins, so few are ever needed.
ATTEMPTS = 10


def effect(order: Order, entry: PaymentEvent, held: int) -> tuple[Balance, OrderEvent | None]:
    """The order's balance once `entry` (which held `held` while it was asked for) has
    settled, and the event it moves the order by (None: the status stays)."""
    done = 0
    succeeded = entry.result is Result.SUCCEEDED
    if succeeded and entry.movement is Movement.VOID:
        done = order.balance.paid - order.balance.refunded  # nothing, for an authorization
    elif succeeded and entry.movement is not Movement.AUTHORIZATION:
        done = entry.amount.amount
    balance = order.balance.settled(entry.movement, held, done)
    if not succeeded:
        return balance, None
    if entry.movement is Movement.CAPTURE:
        return balance, OrderEvent.CAPTURED
    if entry.movement is Movement.VOID:
        return balance, OrderEvent.VOIDED
    if entry.movement is Movement.REFUND and 0 < balance.paid <= balance.refunded:
        restock = entry.restock and order.status.holds_stock
        return balance, OrderEvent.REFUNDED_RESTOCKED if restock else OrderEvent.REFUNDED
    return balance, None


def book(uow: UnitOfWork, order: Order, entry: PaymentEvent, held: int, now: datetime, *,
         stock_gone: bool = False) -> bool:
    """Write what settling `entry` does to `order` (as read in `uow`'s transaction): its
    balance, its status, and the `needs_refund` flag, which clears once no more is owed.
    False when another writer changed the order since it was read. Raises `OutOfStock` when
    a late capture finds the stock gone (roll back and book again with `stock_gone`: the
    order is then flagged for a refund)."""
    read = order.balance
    balance, event = effect(order, entry, held)
    order.balance = balance
    if event is not None and not order.can(event):
        event = None
    target = transition_for(order.status, event).target if event else order.status
    if entry.movement in MONEY_BACK and order.needs_refund:
        kept = order.total.amount if target is OrderStatus.SUCCESS else 0
        order.needs_refund = balance.paid - balance.refunded > kept
    if event is not None and stock_gone:
        return flag_for_refund(uow, order, now, read_balance=read)
    refunded = _refunded(entry)
    if event is not None:
        return move(uow, order, event, now, read_balance=read, **refunded) is not None
    if not write_balance(uow, order, now, read):
        return False
    if refunded:  # a partial refund: no move of the table, but an event all the same
        announce(uow, EventType.ORDER_REFUNDED, order, now, **refunded)
    return True


def _refunded(entry: PaymentEvent) -> dict[str, str]:
    """What an `order.refunded` event adds to the order's snapshot: the amount that went back."""
    if entry.movement is Movement.REFUND and entry.result is Result.SUCCEEDED:
        return {"amount": entry.amount.format()}
    return {}


def settle_reserved(uow: UnitOfWork, clock: Clock, entry_id: int, result: Result,
                    transaction_id: str | None) -> PaymentEvent:
    """Settle the movement the shop reserved as `entry_id` with what the provider answered.
    An entry its callback already settled stays as it is; so does one whose transaction
    the ledger already counts under another entry (that one's own callback settles it)."""
    stock_gone = False
    for _ in range(ATTEMPTS):
        with uow:
            entry = uow.payment_events.get(entry_id)
            assert entry is not None and entry.order_id is not None
            if entry.result.is_final:
                return entry
            if transaction_id is not None:
                other = uow.payment_events.get_by_transaction_id(transaction_id)
                if other is not None and other.id != entry.id:
                    return entry
            now = clock.now()
            settled = evolve(entry, transaction_id=transaction_id or entry.transaction_id,
                             result=result, success=result is Result.SUCCEEDED,
                             pending=not result.is_final, updated_at=now)
            # Claim the entry first: a callback settling it at the same moment either
            # settled it before (this write finds it settled, and the retry returns it) or
            # waits for this transaction and then finds it settled.
            if not uow.payment_events.update(settled):
                continue
            if result.is_final:
                order = uow.orders.get(entry.order_id)
                assert order is not None
                try:
                    if not book(uow, order, settled, entry.amount.amount, now,
                                stock_gone=stock_gone):
                        continue
                except OutOfStock:
                    stock_gone = True
                    continue
            uow.commit()
            return settled
    raise RuntimeError(f"Ledger entry {entry_id} kept changing.")  # pragma: no cover

