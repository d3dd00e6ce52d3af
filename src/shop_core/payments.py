"""Payments at the provider, in the shop's terms: the intention opened for an order, the
callbacks the provider sends, the transactions it answers with, and the ledger of them. Each
provider's adapter translates its own fields (references, secrets) to and from these."""

from __future__ import annotations

import enum
from datetime import datetime

from attrs import frozen

from shop_core.ledger import Movement, Result
from shop_core.money import Money


@frozen
class PaymentIntention:
    """A payment the provider opened for one order: where the customer pays, and the
    provider's own names for it, which the shop keeps but never interprets."""

    intention_id: str
    checkout_url: str
    # The provider's order id, when it has one: its signed callbacks name the payment by it.
    provider_order_id: str | None = None


class PaymentState(enum.Enum):
    """A payment the provider reports as under way, neither paid nor refused yet."""

    AWAITING_PAYMENT = "awaiting_payment"
    # A bill reference was issued: the customer pays it in cash at a kiosk.
    AWAITING_KIOSK_PAYMENT = "awaiting_kiosk_payment"
    # An instalment plan waits for the lender's approval.
    AWAITING_APPROVAL = "awaiting_approval"


@frozen
class PaymentCallback:
    """A verified transaction callback from the provider, reduced to what the shop decides on."""

    transaction_id: str
    amount: Money
    success: bool
    pending: bool
    is_refund: bool
    is_void: bool
    has_parent_transaction: bool
    # The order the callback names, as its adapter read it. Not trusted on its own when the
    # provider does not sign it: a `provider_order_id` that disagrees wins.
    order_id: int | None
    provider_order_id: str | None
    # An authorization holds the money at the customer's bank until it is captured.
    is_auth: bool = False
    is_capture: bool = False
    # The transaction a refund, void or capture acts on, when the provider names it.
    parent_transaction_id: str | None = None

    @property
    def movement(self) -> Movement:
        """What the transaction did with the money."""
        if self.is_refund:
            return Movement.REFUND
        if self.is_void:
            return Movement.VOID
        if self.is_capture and self.has_parent_transaction:
            return Movement.CAPTURE
        if self.is_auth:
            return Movement.AUTHORIZATION
        return Movement.PAYMENT

    @property
    def result(self) -> Result:
        if self.pending:
            return Result.PENDING
        return Result.SUCCEEDED if self.success else Result.FAILED
    # For a pending notice: what the payment waits for, and the reference the customer pays
    # with (a kiosk bill reference), when the provider gives them.
    awaiting: PaymentState = PaymentState.AWAITING_PAYMENT
    payment_reference: str | None = None

    @property
    def ledger_key(self) -> str:
        """What makes a callback a repeat. A pending notice is keyed apart from the final
        outcome of the same transaction, which the provider sends later under the same id:
        the notice must not turn the real outcome into a "duplicate"."""
        return f"{self.transaction_id}:pending" if self.pending else self.transaction_id

    @property
    def is_reversal(self) -> bool:
        """Refunds and voids arrive as transactions of their own; they never fail, revive
        or re-reserve an order (a capture is a child transaction that pays one)."""
        return self.is_refund or self.is_void or (
            self.has_parent_transaction and self.movement is not Movement.CAPTURE)


@frozen
class ProviderTransaction:
    """The provider's answer to a refund, void or capture the shop asked for: the new
    transaction it made, which its callback will name again."""

    transaction_id: str
    amount: Money
    success: bool
    pending: bool = False
    parent_transaction_id: str | None = None

    @property
    def result(self) -> Result:
        if self.pending:
            return Result.PENDING
        return Result.SUCCEEDED if self.success else Result.FAILED


class CallbackOutcome(enum.Enum):
    PAID = "paid"
    LATE_PAID = "late_paid"
    DECLINED = "declined"
    NEEDS_REFUND = "needs_refund"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    REVERSAL_RECORDED = "reversal_recorded"
    STILL_PENDING = "still_pending"
    AMOUNT_MISMATCH = "amount_mismatch"
    UNKNOWN_ORDER = "unknown_order"
    IGNORED = "ignored"
    DUPLICATE = "duplicate"


@frozen
class PaymentEvent:
    """One entry of the ledger: a transaction at the provider, unique by its id, or one the
    shop reserved before asking the provider for it (no id until the answer or the callback
    names it). `outcome` says what a callback did; `result` where the money stands.
    `started_by` is the staff member who asked for it, None when the customer or the
    provider (its dashboard) did."""

    transaction_id: str | None
    order_id: int | None
    amount: Money
    success: bool
    pending: bool
    is_reversal: bool
    outcome: CallbackOutcome | None
    received_at: datetime
    id: int | None = None
    movement: Movement = Movement.PAYMENT
    result: Result = Result.SUCCEEDED
    started_by: int | None = None
    parent_transaction_id: str | None = None
    restock: bool = False
    reason: str = ""
    updated_at: datetime | None = None
