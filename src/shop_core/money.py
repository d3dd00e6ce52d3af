"""Money as an integer number of minor units (piasters, cents, baisas) with its ISO currency.

Each currency has its own number of decimal places (ISO 4217's minor unit): an amount is an
integer of that currency's smallest unit, and its decimal string has exactly that many places.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import total_ordering
from typing import Any

from attrs import field, frozen

# ISO 4217 minor units of the currencies the shop sells in; any other has two places.
MINOR_UNITS: dict[str, int] = {"EGP": 2, "SAR": 2, "AED": 2, "PKR": 2, "OMR": 3}
DEFAULT_PLACES = 2
# The most decimal places any known currency has: what a decimal string may carry at most.
MAX_PLACES = max(MINOR_UNITS.values())

# ASCII only: \d would otherwise accept any script's digits ("١٩٩") and full-width ones.
_DECIMAL = re.compile(r"^(?P<sign>-?)(?P<whole>\d+)(?:\.(?P<frac>\d+))?$", re.ASCII)
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def places(currency: str) -> int:
    """How many decimal places `currency` is written with (3 for OMR, 2 for EGP)."""
    return MINOR_UNITS.get(currency, DEFAULT_PLACES)


class TooManyDecimals(ValueError):
    """A decimal string is finer than its currency's smallest unit (``"1.005"`` in EGP)."""

    def __init__(self, text: str, currency: str) -> None:
        self.places = places(currency)
        super().__init__(f"{text!r} has more than {self.places} decimal places, "
                         f"the most {currency} has")


def _integer_amount(_: Any, __: Any, value: Any) -> None:
    if type(value) is int:
        return
    # bool is an int subclass; a float would silently lose precision.
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"Money amount must be an int of minor units, not {type(value).__name__}")


# Codes already checked: Money is made for every price and line read, and a set lookup costs
# a fraction of the pattern's match.
_CHECKED_CURRENCIES: set[str] = set()


def _iso_currency(_: Any, __: Any, value: Any) -> None:
    if type(value) is str and value in _CHECKED_CURRENCIES:
        return
    if not isinstance(value, str) or not _CURRENCY.match(value):
        raise ValueError(f"Currency must be a three-letter ISO code, not {value!r}")
    _CHECKED_CURRENCIES.add(value)


@total_ordering
@frozen
class Money:
    """An amount in minor units of `currency`. Arithmetic refuses to mix currencies."""

    amount: int = field(validator=_integer_amount)
    currency: str = field(validator=_iso_currency)

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """Read a decimal string such as ``"199.99"`` (``"12.500"`` in OMR), with at most as
        many places as `currency` has; never a float. Raises `TooManyDecimals` (a
        `ValueError`) for a finer amount, `ValueError` for anything else but a decimal."""
        if not isinstance(text, str):
            raise TypeError("Money is parsed from a decimal string only")
        _iso_currency(None, None, currency)
        match = _DECIMAL.match(text.strip())
        if match is None:
            raise ValueError(f"{text!r} is not a decimal amount")
        frac, digits = match["frac"], places(currency)
        if frac is not None and len(frac) > digits:
            raise TooManyDecimals(text, currency)
        minor = int(match["whole"]) * 10**digits + int((frac or "0").ljust(digits, "0"))
        return cls(-minor if match["sign"] else minor, currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def format(self) -> str:
        """The decimal string used on the wire, with the currency's places: 19999 EGP ->
        ``"199.99"``, 12500 OMR -> ``"12.500"``."""
        digits = places(self.currency)
        sign = "-" if self.amount < 0 else ""
        whole, frac = divmod(abs(self.amount), 10**digits)
        return f"{sign}{whole}.{frac:0{digits}d}"

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
    zero = Money.zero(currency)
    minor = 0
    for amount in amounts:
        zero._same_currency(amount)
        minor += amount.amount
    return Money(minor, currency)
