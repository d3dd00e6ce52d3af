"""Staff moving money after the payment: refunds, voids and captures.

Each has the shape of placing an order. Transaction one holds the amount on the order
(conditional on the balance read, so two staff refunding at once can never give back more
than was captured) and reserves a ledger entry; commit. Outside any transaction, the
provider is asked. Transaction two settles the entry (`settlement.settle_reserved`), or
releases the amount when the provider surely did nothing. When the provider may have acted
but did not say (a timeout), the entry stays `unknown` and the amount held, until the
callback or an inquiry settles it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from attrs import frozen

from shop_core.errors import (
    Conflict,
    NotFound,
    OutcomeUnknown,
    PaymentProviderError,
    ProviderRefused,
    ValidationError,
)
from shop_core.ledger import (
    Balance,
    Movement,
    NotCapturable,
    NothingToRefund,
    NotVoidable,
    Result,
)
from shop_core.money import Money
from shop_core.orders import Order, OrderEvent, OrderStatus
from shop_core.payments import PaymentEvent, ProviderTransaction
from shop_core.ports import Clock, PaymentOperations, UnitOfWork
from shop_core.use_cases.settlement import ATTEMPTS, settle_reserved
from shop_core.use_cases.transitions import write_balance

REASON_MAX_LENGTH = 500


@frozen
class OperationServices:
    operations: PaymentOperations
    clock: Clock


@frozen
class Refund:
    """Give money back: `amount` (None: everything refundable). `restock` puts the lines'
    stock back, and is for a refund of everything left only: a partial refund names no
    lines, so the shop cannot tell which goods came back."""

    order_id: int
    staff_id: int
    amount: Money | None = None
    restock: bool = False
    reason: str = ""


@frozen
class Void:
    order_id: int
    staff_id: int


@frozen
class Capture:
    """Collect an authorization: `amount` (None: all that was authorized)."""

    order_id: int
    staff_id: int
    amount: Money | None = None


@frozen
class _Plan:
    balance: Balance
    amount: int
    transaction_id: str


_Planner = Callable[[Order, Sequence[PaymentEvent]], _Plan]


def refund_order(uow: UnitOfWork, services: OperationServices, command: Refund) -> PaymentEvent:
    """Refund part or all of an order's captured money; the ledger entry, `succeeded` or
    `unknown`. `NothingToRefund`/`OverRefund` (nothing is held then), `PaymentProviderError`
    when the provider refused or failed (the amount is released)."""
    if len(command.reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": [f"Say why in at most {REASON_MAX_LENGTH} "
                                          "characters."]})
    def plan(order: Order, entries: Sequence[PaymentEvent]) -> _Plan:
        target = _paid_transaction(entries)
        if target is None:
            raise NothingToRefund("Nothing captured on this order is left to refund.")
        wanted = _minor(command.amount, order)
        balance, amount = order.balance.hold_refund(wanted)
        if command.restock and (amount != order.balance.refundable
                                or not order.status.holds_stock):
            raise Conflict("Only a refund of everything left on an order that holds its "
                           "stock can restock it.")
        return _Plan(balance, amount, target)

    order, entry = _reserve(uow, services.clock, command.order_id, command.staff_id,
                            Movement.REFUND, plan, restock=command.restock,
                            reason=command.reason)
    return _ask(uow, services.clock, entry, lambda: services.operations.refund(
        order, _parent(entry), entry.amount))


def void_order(uow: UnitOfWork, services: OperationServices, command: Void) -> PaymentEvent:
    """Void an order's payment (or authorization) before it settles: the order becomes
    `voided` and its stock returns. `NotVoidable` when it cannot be (any more)."""
    def plan(order: Order, entries: Sequence[PaymentEvent]) -> _Plan:
        if not order.can(OrderEvent.VOIDED):
            raise NotVoidable(f"A {order.status.value} order has no payment to void.")
        if order.status is OrderStatus.AUTHORIZED:
            target = _authorization(entries)
            return _Plan(order.balance.hold_capture(order.total.amount), order.total.amount,
                         target)
        paid = _paid_transaction(entries)
        if paid is None:
            raise NotVoidable("This order has no captured payment to void.")
        balance, amount = order.balance.hold_void()
        return _Plan(balance, amount, paid)

    order, entry = _reserve(uow, services.clock, command.order_id, command.staff_id,
                            Movement.VOID, plan)
    try:
        return _ask(uow, services.clock, entry,
                    lambda: services.operations.void(order, _parent(entry)))
    except ProviderRefused:
        raise NotVoidable("The payment can no longer be voided (it has probably been "
                          "settled): refund it instead.") from None


def capture_order(uow: UnitOfWork, services: OperationServices,
                  command: Capture) -> PaymentEvent:
    """Capture an authorized order's money; once it succeeds the order is `success`."""
    def plan(order: Order, entries: Sequence[PaymentEvent]) -> _Plan:
        if order.status is not OrderStatus.AUTHORIZED:
            raise NotCapturable(f"A {order.status.value} order has no authorization to "
                                "capture.")
        amount = _minor(command.amount, order)
        amount = order.total.amount if amount is None else amount
        if not 0 < amount <= order.total.amount:
            raise NotCapturable("A capture takes at most what was authorized.")
        return _Plan(order.balance.hold_capture(amount), amount, _authorization(entries))

    order, entry = _reserve(uow, services.clock, command.order_id, command.staff_id,
                            Movement.CAPTURE, plan)
    return _ask(uow, services.clock, entry, lambda: services.operations.capture(
        order, _parent(entry), entry.amount))


def ledger_of(uow: UnitOfWork, order_id: int) -> tuple[Order, list[PaymentEvent]]:
    """An order and its ledger, oldest entry first."""
    with uow:
        order = uow.orders.get(order_id)
        if order is None:
            raise NotFound("Order not found.")
        return order, uow.payment_events.list_for_order(order_id)


def _reserve(uow: UnitOfWork, clock: Clock, order_id: int, staff_id: int, movement: Movement,
             plan: _Planner, *, restock: bool = False,
             reason: str = "") -> tuple[Order, PaymentEvent]:
    """Transaction one: hold the amount on the order and reserve the ledger entry."""
    for _ in range(ATTEMPTS):
        with uow:
            order = uow.orders.get(order_id)
            if order is None:
                raise NotFound("Order not found.")
            decided = plan(order, uow.payment_events.list_for_order(order_id))
            now = clock.now()
            read, order.balance = order.balance, decided.balance
            if not write_balance(uow, order, now, read):
                continue  # another refund, callback or expiry got there first
            entry = uow.payment_events.reserve(PaymentEvent(
                transaction_id=None, order_id=order_id,
                amount=Money(decided.amount, order.currency), success=False, pending=True,
                is_reversal=movement in (Movement.REFUND, Movement.VOID), outcome=None,
                received_at=now, movement=movement, result=Result.PENDING,
                started_by=staff_id, parent_transaction_id=decided.transaction_id,
                restock=restock, reason=reason, updated_at=now))
            uow.commit()
            return order, entry
    raise Conflict("The order kept changing; try again.")


def _ask(uow: UnitOfWork, clock: Clock, entry: PaymentEvent,
         call: Callable[[], ProviderTransaction]) -> PaymentEvent:
    """Outside any transaction: ask the provider, then settle the entry with its answer."""
    assert entry.id is not None
    try:
        answer = call()
    except OutcomeUnknown:
        return settle_reserved(uow, clock, entry.id, Result.UNKNOWN, None)
    except PaymentProviderError:
        settle_reserved(uow, clock, entry.id, Result.FAILED, None)
        raise
    settled = settle_reserved(uow, clock, entry.id, answer.result, answer.transaction_id)
    if settled.result is Result.FAILED:
        raise ProviderRefused(f"The payment provider declined the {entry.movement.value}.")
    return settled


def _parent(entry: PaymentEvent) -> str:
    assert entry.parent_transaction_id is not None
    return entry.parent_transaction_id


def _minor(amount: Money | None, order: Order) -> int | None:
    if amount is None:
        return None
    if amount.currency != order.currency or not amount.is_positive:
        raise Conflict(f"The amount must be a positive amount of {order.currency}.")
    return amount.amount


def _paid_transaction(entries: Sequence[PaymentEvent]) -> str | None:
    """The provider transaction the order's money was captured by: the payment, or the
    authorization a capture collected (refunds and voids name the original)."""
    for entry in reversed(entries):
        if entry.result is not Result.SUCCEEDED or entry.transaction_id is None:
            continue
        if entry.movement is Movement.PAYMENT:
            return entry.transaction_id
        if entry.movement is Movement.CAPTURE:
            return entry.parent_transaction_id or entry.transaction_id
    return None


def _authorization(entries: Sequence[PaymentEvent]) -> str:
    for entry in reversed(entries):
        if (entry.movement is Movement.AUTHORIZATION and entry.result is Result.SUCCEEDED
                and entry.transaction_id is not None):
            return entry.transaction_id
    raise NotCapturable("This order has no authorization at the provider.")
