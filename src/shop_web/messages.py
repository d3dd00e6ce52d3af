"""The words for the shop's rules: every `Violation` the core raises is put into the API's
language here, and the request schemas use the same words for the bounds they check first,
so a client reads one message per rule whichever layer caught it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shop_core.errors import Rule, Violation
from shop_core.money import Money

MESSAGES: dict[Rule, str] = {
    Rule.BLANK: "This field may not be blank.",
    Rule.TOO_LONG: "Ensure this field has no more than {limit} characters.",
    Rule.USERNAME_CHARACTERS: "Enter a valid username: letters, digits and @/./+/-/_ only.",
    Rule.EMAIL_FORMAT: "Enter a valid email address.",
    Rule.PHONE_FORMAT:
        "Enter the phone number in international format, such as +201001234567.",
    Rule.PHONE_REQUIRED:
        "Paying by {limit} needs your phone number: add it to your profile first.",
    Rule.UNKNOWN_PAYMENT_METHOD: "Choose one of the payment methods the shop takes: {limit}.",
    Rule.PAYMENT_METHOD_REQUIRED: "Choose a payment method: {limit}.",
    Rule.PASSWORD_TOO_SHORT:
        "This password is too short. It must contain at least {limit} characters.",
    Rule.PASSWORD_NUMERIC: "This password is entirely numeric.",
    Rule.PASSWORD_LIKE_USERNAME: "The password is too similar to the username.",
    Rule.TAKEN: "A user with that {field} already exists.",
    Rule.NOT_POSITIVE: "Ensure this value is greater than 0.",
    Rule.PRICE_TOO_HIGH: "Ensure this value is at most {limit}.",
    Rule.TOO_MANY_DECIMALS: "Ensure that there are no more than {limit} decimal places.",
    Rule.NEGATIVE: "Ensure this value is greater than or equal to 0.",
    Rule.ABOVE_MAXIMUM: "Ensure this value is less than or equal to {limit}.",
    Rule.NO_ITEMS: "At least one item is required.",
    Rule.TOO_MANY_ITEMS: "At most {limit} items are allowed.",
    Rule.QUANTITY_RANGE: "Quantity must be a whole number from 1 to {limit}.",
    Rule.UNKNOWN_PRODUCTS: "Product {limit} does not exist or is no longer sold.",
    Rule.MIXED_CURRENCIES: "All products must be priced in one currency.",
    Rule.PAGE_BELOW_ONE: "Must be 1 or more.",
    Rule.PAGE_SIZE_RANGE: "Must be between 1 and {limit}.",
}


def message(rule: Rule, limit: Any = None, *, field: str = "") -> str:
    """The words for breaking `rule` (with its bound `limit`) in `field`."""
    return MESSAGES[rule].format(limit=_text(limit), field=field)


def field_messages(field_errors: Mapping[str, Any]) -> dict[str, Any]:
    """`field_errors` with each `Violation` put into words; adapters' own messages (strings)
    and nested errors pass through."""
    return {field: _words(field, errors) for field, errors in field_errors.items()}


def _words(field: str, errors: Any) -> Any:
    if isinstance(errors, Violation):
        return message(errors.rule, errors.limit, field=field)
    if isinstance(errors, Mapping):
        return field_messages(errors)
    if isinstance(errors, list | tuple):
        return [_words(field, error) for error in errors]
    return errors


def _text(limit: Any) -> str:
    if isinstance(limit, Money):
        return limit.format()
    if isinstance(limit, tuple):
        return ", ".join(str(item) for item in limit)
    return "" if limit is None else str(limit)
