"""One small hierarchy of domain errors; the web edge maps each class to an HTTP status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shop_core.catalogue import Shortfall


class ShopError(Exception):
    """Base of every error the core raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ValidationError(ShopError):
    """Input breaks a rule; `field_errors` maps each field to its messages (nested if needed)."""

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


class OutOfStock(Conflict):
    """One or more cart lines ask for more units than are available."""

    def __init__(self, shortfalls: Sequence[Shortfall]) -> None:
        super().__init__("Not enough stock for some items.")
        self.unavailable = tuple(shortfalls)


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


class Unavailable(ShopError):
    """Something the shop needs (its database) is down or overloaded; a retry may succeed.
    Adapters raise it in place of their library's connection and lock errors."""


class InvalidSignature(ShopError):
    """A payment callback's signature is missing or does not verify."""
