"""Money as an integer number of minor units (piasters, cents) with its ISO currency."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import total_ordering
from typing import Any

from attrs import field, frozen

# ASCII only: \d would otherwise accept any script's digits ("١٩٩") and full-width ones.
_DECIMAL = re.compile(r"^(?P<sign>-?)(?P<whole>\d+)(?:\.(?P<frac>\d{1,2}))?$", re.ASCII)
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _integer_amount(_: Any, __: Any, value: Any) -> None:
    # bool is an int subclass; a float would silently lose precision.
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"Money amount must be an int of minor units, not {type(value).__name__}")


def _iso_currency(_: Any, __: Any, value: Any) -> None:
    if not isinstance(value, str) or not _CURRENCY.match(value):
        raise ValueError(f"Currency must be a three-letter ISO code, not {value!r}")


@total_ordering
@frozen
class Money:
    """An amount in minor units of `currency`. Arithmetic refuses to mix currencies."""

    amount: int = field(validator=_integer_amount)
    currency: str = field(validator=_iso_currency)

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """Read a decimal string such as ``"199.99"`` (at most two places); never a float."""
        if not isinstance(text, str):
            raise TypeError("Money is parsed from a decimal string only")
        match = _DECIMAL.match(text.strip())
        if match is None:
            raise ValueError(f"{text!r} is not a decimal amount with at most two places")
        minor = int(match["whole"]) * 100 + int((match["frac"] or "0").ljust(2, "0"))
        return cls(-minor if match["sign"] else minor, currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def format(self) -> str:
        """The two-place decimal string used on the wire: 19999 -> ``"199.99"``."""
        sign = "-" if self.amount < 0 else ""
        whole, frac = divmod(abs(self.amount), 100)
        return f"{sign}{whole}.{frac:02d}"

    def __str__(self) -> str:
        return f"{self.format()} {self.currency}"

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def times(self, quantity: int) -> Money:
        """The price of `quantity` units."""
        if not isinstance(quantity, int) or isinstance(quantity, bool):
            raise TypeError("Quantity must be an int")
        return Money(self.amount * quantity, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    def _same_currency(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"Cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise ValueError(f"Cannot combine {self.currency} with {other.currency}")


def total(amounts: Iterable[Money], currency: str) -> Money:
    """Sum of `amounts`, all in `currency` (zero when empty)."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
