"""What the Paymob adapter needs to know, in one value the composition root builds once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from attrs import field, frozen

from shop_adapters.paymob.references import DEFAULT_PREFIX
from shop_adapters.paymob.regions import DEFAULT_REGION

# The shop's paths Paymob calls and sends customers to; the web edge serves them at these.
CALLBACK_PATH = "/webhook/"
RETURN_PATH = "/payment/return/"


def _strip_slash(value: str) -> str:
    return value.rstrip("/")


def _int_ids(value: Any) -> tuple[int, ...]:
    ids = tuple(value)
    # bool is an int subclass; a string id would go to Paymob as a JSON string.
    if any(not isinstance(i, int) or isinstance(i, bool) or i <= 0 for i in ids):
        raise ValueError("Paymob integration ids must be positive integers.")
    return ids


@frozen
class Integration:
    """One of the merchant's Paymob payment integrations: its id, the shop's payment method
    it takes payments by, and that method's payment window (None: the shop's default)."""

    id: int
    method: str = "card"
    window: timedelta | None = None


def _integrations(value: Iterable[Integration]) -> tuple[Integration, ...]:
    return tuple(value)


def _positive(_: Any, attribute: Any, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be a positive number of seconds.")


@frozen(kw_only=True)
class PaymobSettings:
    """Paymob credentials and the shop's own URLs. Secrets are left out of `repr`, so a
    logged or printed settings object never shows them."""

    secret_key: str = field(repr=False)
    public_key: str
    hmac_secret: str = field(repr=False)
    # The API key of the legacy API (auth tokens for transaction inquiries); empty: the
    # shop does not reconcile.
    api_key: str = field(default="", repr=False)
    integration_ids: tuple[int, ...] = field(converter=_int_ids)
    # Each integration's method; empty: every id in `integration_ids` is a card integration.
    integrations: tuple[Integration, ...] = field(default=(), converter=_integrations)
    public_base_url: str = field(converter=_strip_slash)
    api_base: str = field(default=DEFAULT_REGION.api_base, converter=_strip_slash)
    currency: str = "EGP"
    reference_prefix: str = DEFAULT_PREFIX
    # Connect slightly above a multiple of 3 s (TCP's retransmission window), as requests'
    # docs advise; the read timeout bounds how long a customer waits on Paymob.
    connect_timeout: float = field(default=3.05, validator=_positive)
    read_timeout: float = field(default=10.0, validator=_positive)
    # Inquiries run in the background against a batch: a short wait each, so that an
    # unwell Paymob trips the breaker quickly instead of holding a pass.
    inquiry_read_timeout: float = field(default=5.0, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.integrations and self.integration_ids != tuple(i.id for i in self.integrations):
            raise ValueError("integration_ids must be the ids of integrations, in order.")

    @property
    def all_integrations(self) -> tuple[Integration, ...]:
        return self.integrations or tuple(Integration(i) for i in self.integration_ids)

    def integration_ids_for(self, methods: Sequence[str]) -> list[int]:
        """The ids of the integrations that take `methods` (empty: every integration)."""
        return [integration.id for integration in self.all_integrations
                if not methods or integration.method in methods]

    @property
    def notification_url(self) -> str:
        """Where Paymob POSTs the transaction processed callback."""
        return f"{self.public_base_url}{CALLBACK_PATH}"

    @property
    def redirection_url(self) -> str:
        """Where Paymob sends the customer's browser after paying."""
        return f"{self.public_base_url}{RETURN_PATH}"

    @property
    def timeout(self) -> tuple[float, float]:
        """The (connect, read) pair `requests` takes."""
        return (self.connect_timeout, self.read_timeout)

    @property
    def inquiry_timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.inquiry_read_timeout)
