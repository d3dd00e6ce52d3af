"""One small hierarchy of domain errors; the web edge maps each class to an HTTP status."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from attrs import frozen


class Rule(enum.Enum):
    """A rule of the shop that input can break. The core names the rule; the web edge (or
    any other front end) words it, in one place."""

    BLANK = "blank"
    TOO_LONG = "too_long"  # limit: the most characters allowed
    USERNAME_CHARACTERS = "username_characters"
    EMAIL_FORMAT = "email_format"
    PHONE_FORMAT = "phone_format"
    PHONE_REQUIRED = "phone_required"  # limit: the payment method that needs it
    UNKNOWN_PAYMENT_METHOD = "unknown_payment_method"  # limit: the methods taken, a tuple
    PAYMENT_METHOD_REQUIRED = "payment_method_required"  # limit: the methods taken, a tuple
    PASSWORD_TOO_SHORT = "password_too_short"  # limit: the fewest characters allowed
    PASSWORD_NUMERIC = "password_numeric"
    PASSWORD_LIKE_USERNAME = "password_like_username"
    TAKEN = "taken"  # another user has this value
    NOT_POSITIVE = "not_positive"
    PRICE_TOO_HIGH = "price_too_high"  # limit: the highest price, a Money
    TOO_MANY_DECIMALS = "too_many_decimals"  # limit: the places the currency has
    NEGATIVE = "negative"
    ABOVE_MAXIMUM = "above_maximum"  # limit: the highest value
    NO_ITEMS = "no_items"
    TOO_MANY_ITEMS = "too_many_items"  # limit: the most lines a cart may have
    QUANTITY_RANGE = "quantity_range"  # limit: the largest quantity of a line
    UNKNOWN_PRODUCTS = "unknown_products"  # limit: the product ids, a tuple
    MIXED_CURRENCIES = "mixed_currencies"
    PAGE_BELOW_ONE = "page_below_one"
    PAGE_SIZE_RANGE = "page_size_range"  # limit: the largest page
    NO_CHANGE = "no_change"
    STOCK_SHORT = "stock_short"  # limit: the units in stock


@frozen
class Violation:
    """One rule a field broke, with the bound or the values the rule speaks of."""

    rule: Rule
    limit: Any = None


class ShopError(Exception):
    """Base of every error the core raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ValidationError(ShopError):
    """Input breaks a rule. `field_errors` maps each field to what is wrong with it: the
    core's `Violation`s, which front ends put into words, or an adapter's own messages about
    its wire format (nested where the input is)."""

    def __init__(self, field_errors: Mapping[str, Any], detail: str = "Invalid input.") -> None:
        super().__init__(detail)
        self.field_errors = dict(field_errors)


class NotFound(ShopError):
    """The thing asked for does not exist, or the caller may not know that it does."""


class AuthenticationFailed(ShopError):
    """Credentials or a token were missing, wrong, expired or revoked."""


class PermissionDenied(ShopError):
    """The caller is known but not allowed to do this."""


class Conflict(ShopError):
    """The request clashes with the current state of the shop."""


class IllegalTransition(Conflict):
    """An order was asked to move in a way its state machine does not allow."""


class AlreadyExists(ShopError):
    """A unique value (username, email) is taken; adapters raise it on unique violations."""

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} already exists.")
        self.field = field


class IdempotencyMismatch(ShopError):
    """An idempotency key was reused with a different request body."""


class PaymentProviderError(ShopError):
    """The payment provider failed, timed out or answered something unusable."""


class ProviderRefused(PaymentProviderError):
    """The provider answered and refused: it surely did nothing."""


class OutcomeUnknown(PaymentProviderError):
    """The provider was asked to move money and may have done it: it did not answer in
    time. Not a failure: its callback (or an inquiry) settles what happened."""


class Unavailable(ShopError):
    """Something the shop needs (its database) is down or overloaded; a retry may succeed.
    Adapters raise it in place of their library's connection and lock errors."""


class InvalidSignature(ShopError):
    """A payment callback's signature is missing or does not verify."""


class TargetRefused(ShopError):
    """A webhook target the shop will not send to (its scheme, or where it resolves to)."""
