"""Shapes shared by every resource: errors, pages, health."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from shop_core.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

MAX_PAGE = 10**9

# Field errors are `{"field": ["message", ...]}`, nested like the input they describe
# (`{"cart_items": {"0": {"quantity": [...]}}}`); request-level ones are `{"detail": "..."}`.
FIELD_ERRORS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        'Field errors, `{"field": ["message", ...]}`, nested where the input is nested '
        '(list items by index); or `{"detail": "..."}` when the request as a whole is '
        "unusable (malformed JSON, not a JSON object)."
    ),
    "additionalProperties": {
        "anyOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string"}},
            {"type": "object"},
        ]
    },
    "example": {"price": ['Enter the amount as a JSON string such as "199.99", not a number.']},
}


class DetailSchema(Schema):
    detail = fields.String(required=True, metadata={"description": "What went wrong."})


class PageQuerySchema(Schema):
    page = fields.Integer(
        load_default=1, validate=validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": "1-based page number; past the last page is 404."},
    )
    page_size = fields.Integer(
        load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(min=1),
        metadata={"description": f"Results per page; values above {MAX_PAGE_SIZE} are "
                                 f"capped at {MAX_PAGE_SIZE}."},
    )


class PageSchema(Schema):
    count = fields.Integer(required=True, metadata={"description": "Matching results."})
    next = fields.String(required=True, allow_none=True,
                         metadata={"description": "Absolute URL of the next page."})
    previous = fields.String(required=True, allow_none=True,
                             metadata={"description": "Absolute URL of the previous page."})


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})


class ReadinessSchema(Schema):
    status = fields.String(required=True, metadata={
        "example": "ok", "description": "`ok`, or `degraded` when Redis is configured but "
        "unreachable: orders are still taken, and expire by the sweep."})
    redis = fields.String(metadata={"example": "ok",
                                    "description": "`ok` or `unreachable`, when configured."})


class UnavailableSchema(Schema):
    status = fields.String(required=True, metadata={"example": "unavailable"})
    detail = fields.String(required=True)


class Between(validate.Range):
    """`validate.Range` (documented as minimum and maximum) saying what the core says when
    the same bound is broken, one message per side."""

    def __init__(self, low: int, high: int, *, too_low: str, too_high: str) -> None:
        super().__init__(min=low, max=high)
        self._low, self._high = low, high
        self._too_low, self._too_high = too_low, too_high

    def __call__(self, value: Any) -> Any:
        if value < self._low:
            raise ValidationError(self._too_low)
        if value > self._high:
            raise ValidationError(self._too_high)
        return value


class CountBetween(validate.Length):
    """`validate.Length` (documented as minItems and maxItems) worded as the core words it."""

    def __init__(self, low: int, high: int, *, too_few: str, too_many: str) -> None:
        super().__init__(min=low, max=high)
        self._low, self._high = low, high
        self._too_few, self._too_many = too_few, too_many

    def __call__(self, value: Any) -> Any:
        if len(value) < self._low:
            raise ValidationError(self._too_few)
        if len(value) > self._high:
            raise ValidationError(self._too_many)
        return value
