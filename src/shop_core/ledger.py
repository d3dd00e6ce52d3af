"""An order's money: what was paid, what went back, what is on its way back, and the rules
that keep those amounts true.

Every movement of money (a payment, an authorization, its capture, a refund, a void) is one
entry of the order's ledger (`shop_core.payments.PaymentEvent`); the order carries the sums
(`Balance`) so that a listing needs no ledger, and every change of an entry changes the sums
in the same transaction, conditional on the sums the writer read."""

from __future__ import annotations

import enum

from attrs import frozen

from shop_core.errors import Conflict


class Movement(enum.Enum):
    """What a ledger entry did with the customer's money."""

    PAYMENT = "payment"
    AUTHORIZATION = "authorization"
    CAPTURE = "capture"
    REFUND = "refund"
    VOID = "void"


# The movements the shop asks the provider for (a payment or an authorization is the
# customer's); each holds its amount on the order until it is settled.
ASKED_FOR = frozenset({Movement.REFUND, Movement.VOID, Movement.CAPTURE})


class Result(enum.Enum):
    """Where a movement stands. `UNKNOWN`: the provider was asked and did not say (a
    timeout); the money stays held until its callback or an inquiry settles it."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"
    PENDING = "pending"

    @property
    def is_final(self) -> bool:
        return self in (Result.SUCCEEDED, Result.FAILED)


class NothingToRefund(Conflict):
    """The order has no captured money left to give back."""


class OverRefund(Conflict):
    """More was asked back than the order's refundable balance."""


class NotVoidable(Conflict):
    """The payment cannot be voided (any more): it was settled, or part of it refunded."""


class NotCapturable(Conflict):
    """Only an authorized order can be captured, for at most what was authorized."""


@frozen
class Balance:
    """An order's sums, in minor units of its currency: `paid` (captured payments),
    `refunded` (refunds and voids that succeeded) and `held` (refunds, voids and captures
    asked of the provider and not settled yet). `refunded + held` never exceeds `paid`,
    except that a capture in flight holds its amount while nothing is paid yet."""

    paid: int = 0
    refunded: int = 0
    held: int = 0

    @property
    def refundable(self) -> int:
        return self.paid - self.refunded - self.held

    @property
    def voidable(self) -> bool:
        """Nothing went back or is on its way back: a void may still cancel all of it."""
        return not self.refunded and not self.held

    def hold_refund(self, amount: int | None) -> tuple[Balance, int]:
        """The balance with `amount` (None: everything refundable) held for a refund, and
        the amount held. `NothingToRefund` or `OverRefund` when it cannot be."""
        if self.refundable <= 0:
            raise NothingToRefund("Nothing captured on this order is left to refund.")
        wanted = self.refundable if amount is None else amount
        if wanted > self.refundable:
            raise OverRefund("The refund exceeds the order's refundable balance.")
        return Balance(self.paid, self.refunded, self.held + wanted), wanted

    def hold_void(self) -> tuple[Balance, int]:
        """The whole payment held for a void; `NotVoidable` once money went back or is
        on its way back."""
        if not self.voidable:
            raise NotVoidable("Part of this payment was already refunded: refund the rest "
                              "instead of voiding it.")
        return Balance(self.paid, self.refunded, self.held + self.paid), self.paid

    def hold_capture(self, amount: int) -> Balance:
        if self.held:
            raise NotCapturable("A capture or void of this order is already under way.")
        return Balance(self.paid, self.refunded, self.held + amount)

    def settled(self, movement: Movement, held: int, done: int) -> Balance:
        """The balance once a movement that held `held` settled, `done` of it going
        through (0 when it failed); a movement the shop did not start holds nothing."""
        paid, refunded = self.paid, self.refunded
        if movement in (Movement.PAYMENT, Movement.CAPTURE):
            paid += done
        elif movement in (Movement.REFUND, Movement.VOID):
            refunded += done
        return Balance(paid, refunded, max(0, self.held - held))
