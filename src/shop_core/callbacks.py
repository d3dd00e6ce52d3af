"""What a verified payment callback does to its order: a pure decision, which the callback
use case carries out through the one `move` (`shop_core.use_cases.transitions`)."""

from __future__ import annotations

from attrs import frozen

from shop_core.orders import Order, OrderEvent, OrderStatus
from shop_core.payments import CallbackOutcome, PaymentCallback


@frozen
class Decision:
    """The outcome a callback is recorded with, the event it moves its order by (None: the
    order stays as it is), whether the order must be flagged for a refund, and whether it
    now shows its payment as under way."""

    outcome: CallbackOutcome
    event: OrderEvent | None = None
    flag_for_refund: bool = False
    awaits_payment: bool = False


# Paid, but the shop cannot honour it (paid twice, or the stock went to someone else
# meanwhile): the order stays as it is and is flagged, so that a person refunds the money.
REFUND_BY_HAND = Decision(CallbackOutcome.NEEDS_REFUND, flag_for_refund=True)


def decide(order: Order | None, callback: PaymentCallback) -> Decision:
    """What `callback` does to `order` (None: no order matched it)."""
    if order is None:
        return Decision(CallbackOutcome.UNKNOWN_ORDER)
    if callback.is_reversal:
        return Decision(CallbackOutcome.REVERSAL_RECORDED)
    if callback.pending:
        # Only an order still waiting for its payment shows it under way; its reservation
        # holds until the deadline, as for any pending order.
        return Decision(CallbackOutcome.STILL_PENDING,
                        awaits_payment=order.status is OrderStatus.PENDING)
    if callback.amount != order.total:
        return Decision(CallbackOutcome.AMOUNT_MISMATCH)
    if callback.success:
        if order.status is OrderStatus.SUCCESS:
            return REFUND_BY_HAND  # a second, distinct successful transaction
        paid = (CallbackOutcome.PAID if order.status is OrderStatus.PENDING
                else CallbackOutcome.LATE_PAID)
        return Decision(paid, OrderEvent.PAYMENT_SUCCEEDED)
    if order.can(OrderEvent.PAYMENT_DECLINED):
        return Decision(CallbackOutcome.DECLINED, OrderEvent.PAYMENT_DECLINED)
    return Decision(CallbackOutcome.IGNORED)
