"""Payments at the provider, in the shop's terms: the intention opened for an order, the
callbacks the provider sends, and the ledger of them. Each provider's adapter translates its
own fields (references, secrets) to and from these."""

from __future__ import annotations

import enum
from datetime import datetime

from attrs import frozen

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
        """Refunds and voids arrive as transactions of their own; they never move an order."""
        return self.is_refund or self.is_void or self.has_parent_transaction


class CallbackOutcome(enum.Enum):
    PAID = "paid"
    LATE_PAID = "late_paid"
    DECLINED = "declined"
    NEEDS_REFUND = "needs_refund"
    REVERSAL_RECORDED = "reversal_recorded"
    STILL_PENDING = "still_pending"
    AMOUNT_MISMATCH = "amount_mismatch"
    UNKNOWN_ORDER = "unknown_order"
    IGNORED = "ignored"
    DUPLICATE = "duplicate"


@frozen
class PaymentEvent:
    """One callback in the ledger, unique by the provider's transaction id."""

    transaction_id: str
    order_id: int | None
    amount: Money
    success: bool
    pending: bool
    is_reversal: bool
    outcome: CallbackOutcome
    received_at: datetime
