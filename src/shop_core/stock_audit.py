"""The stock audit trail: every change staff make to a product's stock, who made it, when,
from what to what, and why."""

from __future__ import annotations

import enum
from datetime import datetime

from attrs import frozen

from shop_core.catalogue import MAX_STOCK
from shop_core.errors import Rule, ValidationError, Violation

REASON_MAX_LENGTH = 500


class StockChangeKind(enum.Enum):
    CREATED = "created"  # the stock a new product started with
    ADJUSTED = "adjusted"  # units added or taken away, with a reason
    SET = "set"  # a new figure written over the old one (the API's product edit)


@frozen
class StockChange:
    """One entry of a product's stock audit trail. `request_key` names the form or request
    that made it, so that the same submission is applied once however often it arrives."""

    product_id: int
    user_id: int | None
    kind: StockChangeKind
    before: int
    after: int
    reason: str
    changed_at: datetime
    request_key: str | None = None

    @property
    def delta(self) -> int:
        return self.after - self.before


def check_adjustment(delta: int, reason: str) -> None:
    """Raise `ValidationError` unless `delta` changes stock and `reason` says why."""
    errors: dict[str, list[Violation]] = {}
    if delta == 0:
        errors["quantity"] = [Violation(Rule.NO_CHANGE)]
    elif abs(delta) > MAX_STOCK:
        errors["quantity"] = [Violation(Rule.ABOVE_MAXIMUM, MAX_STOCK)]
    if not reason.strip():
        errors["reason"] = [Violation(Rule.BLANK)]
    elif len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = [Violation(Rule.TOO_LONG, REASON_MAX_LENGTH)]
    if errors:
        raise ValidationError(errors)
