"""The ways a customer may pay, and how long an order waits for each: its payment window.

A card or wallet payment is made in minutes; cash at a kiosk or an instalment plan takes hours
or days. An order holds its stock for the window of the method it was opened with, so a card
buyer's stock is never held for two days. Which provider integration stands behind a method is
the payment adapter's business; the shop knows methods by name."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from attrs import field, frozen

from shop_core.accounts import User
from shop_core.errors import Rule, ValidationError, Violation

CARD = "card"
WALLET = "wallet"
# A mobile wallet sends its payment request to the customer's phone.
METHODS_NEEDING_PHONE = frozenset({WALLET})


@frozen
class PaymentMethod:
    """A way to pay, by name (``card``, ``wallet``, ``kiosk``, ``installments``, …), and how
    long an order opened for it holds its stock."""

    name: str
    window: timedelta

    @property
    def needs_phone(self) -> bool:
        return self.name in METHODS_NEEDING_PHONE


@frozen
class Offer:
    """The methods one order is opened with; the customer picks among them at checkout."""

    methods: tuple[PaymentMethod, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(method.name for method in self.methods)

    @property
    def window(self) -> timedelta:
        """How long the order waits: the longest of its methods' windows (an order opened
        without naming a method offers only methods of the default window)."""
        return max(method.window for method in self.methods)


def _methods(methods: Iterable[PaymentMethod]) -> tuple[PaymentMethod, ...]:
    return tuple(methods)


def _one_window_per_method(_: Any, __: Any, methods: Sequence[PaymentMethod]) -> None:
    names = [method.name for method in methods]
    if not names or len(set(names)) != len(names):
        raise ValueError("Payment methods must be at least one, each named once.")


@frozen
class PaymentMethods:
    """The methods the shop takes payments by, and the default window: an order that names
    no method is offered the methods of that window."""

    methods: tuple[PaymentMethod, ...] = field(converter=_methods,
                                               validator=_one_window_per_method)
    default_window: timedelta

    @classmethod
    def card_only(cls, window: timedelta) -> PaymentMethods:
        return cls((PaymentMethod(CARD, window),), window)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(method.name for method in self.methods)

    def offer(self, requested: str | None, customer: User) -> Offer:
        """The methods an order for `customer` is opened with: `requested` alone, or without
        it the default-window methods the customer can use. Raises `ValidationError` naming
        `payment_method` for a method the shop does not take, and `phone_number` when the
        only way left to pay needs a phone the customer has not given."""
        if requested is not None:
            chosen = [method for method in self.methods if method.name == requested]
            if not chosen:
                raise ValidationError({"payment_method": [
                    Violation(Rule.UNKNOWN_PAYMENT_METHOD, self.names)]})
            return Offer(tuple(_payable(chosen, customer)))
        default = [method for method in self.methods if method.window == self.default_window]
        if not default:
            raise ValidationError({"payment_method": [
                Violation(Rule.PAYMENT_METHOD_REQUIRED, self.names)]})
        # A wallet among card-like methods is left out for a customer without a phone,
        # rather than refusing a card payment that needs none.
        return Offer(tuple(_payable(default, customer)))


def _payable(methods: Sequence[PaymentMethod], customer: User) -> list[PaymentMethod]:
    payable = [method for method in methods
               if customer.phone_number is not None or not method.needs_phone]
    if not payable:
        raise ValidationError({"phone_number": [
            Violation(Rule.PHONE_REQUIRED, methods[0].name)]})
    return payable
