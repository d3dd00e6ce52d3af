"""Payment intentions at the provider, the callbacks it sends, and the ledger of them."""

from __future__ import annotations

import enum
from datetime import datetime

from attrs import frozen

from shop_core.money import Money


@frozen
class PaymentIntention:
    """An intention created at the payment provider for one order."""

    intention_id: str
    client_secret: str
    checkout_url: str
    special_reference: str
    provider_order_id: str | None = None


def special_reference(prefix: str, order_id: int) -> str:
    """The merchant reference the provider stores and sends back: ``shop-42``."""
    return f"{prefix}-{order_id}"


def order_id_from_reference(prefix: str, reference: str | None) -> int | None:
    """The order id inside a merchant reference made by `special_reference`, if it is one."""
    if not reference or not reference.startswith(f"{prefix}-"):
        return None
    digits = reference[len(prefix) + 1:]
    return int(digits) if digits.isascii() and digits.isdigit() else None


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
    merchant_reference: str | None
    provider_order_id: str | None

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
