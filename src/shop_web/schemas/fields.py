"""Fields for the wire formats the contract fixes: money as a decimal string, times in UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from marshmallow import fields, validate

from shop_core.money import MAX_PLACES, Money

# Ids are stored in 32-bit integer columns; larger ones can only be unknown.
MAX_ID = 2**31 - 1
# The shape only: whether the places suit the currency is `Money.parse`'s rule.
AMOUNT_PATTERN = rf"^[0-9]{{1,12}}(\.[0-9]{{1,{MAX_PLACES}}})?$"
_AMOUNT = re.compile(AMOUNT_PATTERN)


class Amount(fields.String):
    """Money on the wire: a decimal string with the currency's places, never a JSON number.
    Dumps a `Money`; loads a string of the right shape, which the view turns into `Money`
    in the shop's currency (`Money.parse` refuses more places than the currency has)."""

    default_error_messages = {
        "invalid": 'Enter the amount as a JSON string such as "199.99", not a number.',
        "format": 'Enter a positive decimal amount, such as "199.99".',
    }

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": AMOUNT_PATTERN, "example": "199.99",
                    **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Money):
            raise TypeError(f"Amount fields dump Money, not {type(value).__name__}")
        return value.format()

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        if not _AMOUNT.match(value):
            raise self.make_error("format")
        return value


class UtcDateTime(fields.DateTime):
    """ISO 8601 with an explicit offset, always UTC (a naive value is taken as UTC)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UtcDateTime fields dump datetimes, not {type(value).__name__}")
        return utc_isoformat(value)


def utc_isoformat(value: datetime) -> str:
    """`value` in UTC as ISO 8601 with its offset (a naive value is taken as UTC)."""
    if value.tzinfo is not UTC:  # UTC is how the repositories return them: nothing to pay
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat()


def strict_integer(**kwargs: Any) -> fields.Integer:
    """A JSON integer: strings, floats and booleans are refused."""
    return fields.Integer(strict=True, **kwargs)


def identifier(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)
