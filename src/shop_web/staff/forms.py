"""Reading the back-office's forms and query strings into the core's values. A bad value
raises the core's `ValidationError` naming the field, which the page shows beside it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from shop_core.errors import ShopError, ValidationError
from shop_core.money import Money, places
from shop_core.pagination import DEFAULT_PAGE_SIZE, PageRequest
from shop_web.messages import field_messages

INTEGER_DIGITS = 10
# Far above any field's own limit (a description's is 10,000), which the core words.
MAX_FIELD_LENGTH = 20_000


def text(values: Mapping[str, str], name: str) -> str:
    raw = values.get(name, "")
    if "\x00" in raw or len(raw) > MAX_FIELD_LENGTH:  # no database column takes either
        raise ValidationError({name: ["Enter plain text of a reasonable length."]})
    return raw.strip()


def optional_text(values: Mapping[str, str], name: str) -> str | None:
    return text(values, name) or None


def integer(values: Mapping[str, str], name: str) -> int:
    raw = text(values, name)
    digits = raw.removeprefix("-").removeprefix("+")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > INTEGER_DIGITS:
        raise ValidationError({name: ["Enter a whole number."]})
    return int(raw)


def money(values: Mapping[str, str], name: str, currency: str) -> Money:
    try:
        return Money.parse(text(values, name), currency)
    except ValueError:
        raise ValidationError({name: [
            f"Enter an amount in {currency} with at most {places(currency)} decimal places."
        ]}) from None


def day(values: Mapping[str, str], name: str, *, end: bool = False) -> datetime | None:
    """A date from a date field, as the UTC midnight it starts at (or, with `end`, the
    midnight after it, so that a range includes its last day)."""
    raw = text(values, name)
    if not raw:
        return None
    try:
        start = datetime.combine(date.fromisoformat(raw), time(), UTC)
    except ValueError:
        raise ValidationError({name: ["Enter a date as YYYY-MM-DD."]}) from None
    return start + timedelta(days=1) if end else start


def page(values: Mapping[str, str]) -> PageRequest:
    number = integer(values, "page") if text(values, "page") else 1
    size = integer(values, "page_size") if text(values, "page_size") else DEFAULT_PAGE_SIZE
    return PageRequest(number, size)


def errors_of(error: ShopError) -> dict[str, Any]:
    """What the page shows: each field's messages, or the error's detail under `""`."""
    if isinstance(error, ValidationError):
        return {name: messages if isinstance(messages, list) else [messages]
                for name, messages in field_messages(error.field_errors).items()}
    return {"": [error.detail]}
