"""The live payment gateway: Paymob's Intention API, then its Unified Checkout.

One POST creates the intention. It is never retried: a retry after a timeout could create a
second intention the customer might pay. Every failure becomes `PaymentProviderError`, whose
message and log line never carry a secret.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import requests

from shop_adapters.paymob.references import client_secret as client_secret_of
from shop_adapters.paymob.references import merchant_reference
from shop_adapters.paymob.settings import PaymobSettings
from shop_core.accounts import User
from shop_core.errors import PaymentProviderError
from shop_core.orders import Order
from shop_core.payments import PaymentIntention
from shop_core.ports import Clock

log = logging.getLogger(__name__)

# Paymob requires these billing fields; its docs allow "NA" where the shop has no value.
NOT_AVAILABLE = "NA"
_ADDRESS_FIELDS = ("apartment", "floor", "street", "building", "city", "state", "country",
                   "postal_code", "shipping_method")
_LOGGED_BODY_CHARS = 300


def checkout_url(base: str, public_key: str, client_secret: str) -> str:
    """Unified Checkout at `base` for one intention, with its query values URL-encoded."""
    query = urlencode({"publicKey": public_key, "clientSecret": client_secret})
    return f"{base}/unifiedcheckout/?{query}"


def seconds_left(now: datetime, expires_at: datetime) -> int:
    """Whole seconds until `expires_at`, at least 1 (Paymob refuses a zero expiration).
    Rounded down, so that the intention never outlives the stock reservation."""
    return max(1, int((expires_at - now).total_seconds()))


def intention_request(settings: PaymobSettings, order: Order, customer: User,
                      expires_at: datetime, now: datetime,
                      methods: Sequence[str] = ()) -> dict[str, Any]:
    """The Create Intention body for `order`: amounts in the currency's
    smallest unit (piasters, baisas), integration ids as ints."""
    if order.id is None:
        raise ValueError("An order must be stored before it can be paid.")
    items = [
        {"name": line.name, "amount": line.unit_price.amount,
         "description": line.name, "quantity": line.quantity}
        for line in order.lines
    ]
    billing = {
        "first_name": customer.first_name or NOT_AVAILABLE,
        "last_name": customer.last_name or NOT_AVAILABLE,
        "email": customer.email,
        # Wallets send the payment request to this number; cards show it on the receipt.
        "phone_number": customer.phone_number or NOT_AVAILABLE,
        **{name: NOT_AVAILABLE for name in _ADDRESS_FIELDS},
    }
    return {
        "amount": sum(line.unit_price.amount * line.quantity for line in order.lines),
        "currency": order.currency,
        "payment_methods": settings.integration_ids_for(methods),
        "items": items,
        "billing_data": billing,
        "customer": {"first_name": billing["first_name"], "last_name": billing["last_name"],
                     "email": customer.email},
        "special_reference": merchant_reference(settings.reference_prefix, order.id),
        "expiration": seconds_left(now, expires_at),
        "notification_url": settings.notification_url,
        "redirection_url": settings.redirection_url,
    }


class PaymobGateway:
    """The core's `PaymentGateway` for Paymob Accept's live (or test-mode) API."""

    def __init__(self, settings: PaymobSettings, clock: Clock,
                 session: requests.Session | None = None) -> None:
        if not settings.integration_ids:
            raise ValueError("Paymob needs at least one integration id.")
        self._settings = settings
        self._clock = clock
        self._session = session or requests.Session()

    def create_intention(self, order: Order, customer: User, expires_at: datetime,
                         methods: Sequence[str] = ()) -> PaymentIntention:
        """POST the intention, offering the integrations of `methods` (empty: all of them),
        expiring with the order's payment window; `PaymentProviderError` on any failure,
        never retried."""
        settings = self._settings
        if order.currency != settings.currency:
            # Integration ids are tied to one currency; Paymob would refuse the intention.
            raise self._fail(order, f"Orders in {order.currency} cannot be paid through the "
                                    f"configured Paymob integration ({settings.currency}).")
        if not settings.integration_ids_for(methods):
            raise self._fail(order, f"No Paymob integration takes {', '.join(methods)}.")
        body = intention_request(settings, order, customer, expires_at, self._clock.now(),
                                 methods)
        url = f"{settings.api_base}/v1/intention/"
        try:
            response = self._session.post(
                url, json=body, timeout=settings.timeout, allow_redirects=False,
                headers={"Authorization": f"Token {settings.secret_key}",
                         "Accept": "application/json"},
            )
        except requests.Timeout:
            raise self._fail(order, "The payment provider did not answer in time.") from None
        except requests.RequestException as error:
            raise self._fail(order, "The payment provider could not be reached.",
                             type(error).__name__) from None
        if not 200 <= response.status_code < 300:
            raise self._fail(order, f"The payment provider refused the payment "
                                    f"(HTTP {response.status_code}).", self._excerpt(response))
        try:
            data = response.json()
        except ValueError:
            raise self._fail(order, "The payment provider answered with something that is "
                                    "not JSON.", self._excerpt(response)) from None
        return self._intention(order, data, response)

    def close_intention(self, order: Order) -> None:
        """Shorten the cancelled order's intention to one second, best effort.

        Paymob documents no way to close or cancel an intention. Its Update Intention API
        (`PUT /v1/intention/{client_secret}`) lists `expiration` among the fields it takes,
        without saying what a change does, and requires the amount and `accept_order_id`
        (Paymob's order id). So the shop sends the same amount with a one-second expiration;
        if Paymob ignores it or refuses, a payment still taken follows the late-payment rule.
        `PaymentProviderError` on any failure; never retried."""
        payment = order.payment
        secret = client_secret_of(payment)
        if payment is None or secret is None or payment.provider_order_id is None:
            raise self._fail(order, "The intention cannot be updated without its client "
                                    "secret and Paymob order id.")
        body = {"amount": order.total.amount, "accept_order_id": _as_int(
            payment.provider_order_id), "expiration": 1}
        url = f"{self._settings.api_base}/v1/intention/{quote(secret, safe='')}"
        try:
            response = self._session.put(
                url, json=body, timeout=self._settings.timeout, allow_redirects=False,
                headers={"Authorization": f"Token {self._settings.secret_key}",
                         "Accept": "application/json"})
        except requests.RequestException as error:
            raise self._fail(order, "Paymob could not be reached to close the intention.",
                             type(error).__name__) from None
        if not 200 <= response.status_code < 300:
            raise self._fail(order, f"Paymob refused to close the intention (HTTP "
                                    f"{response.status_code}).", self._excerpt(response))

    def _intention(self, order: Order, data: object,
                   response: requests.Response) -> PaymentIntention:
        if not isinstance(data, Mapping):
            raise self._fail(order, "The payment provider's answer is not a JSON object.",
                             self._excerpt(response))
        client_secret, intention_id = data.get("client_secret"), data.get("id")
        if not isinstance(client_secret, str) or not client_secret:
            raise self._fail(order, "The payment provider's answer has no client secret.",
                             self._excerpt(response))
        if isinstance(intention_id, int) and not isinstance(intention_id, bool):
            intention_id = str(intention_id)
        if not isinstance(intention_id, str) or not intention_id:
            raise self._fail(order, "The payment provider's answer has no intention id.",
                             self._excerpt(response))
        return PaymentIntention(
            intention_id=intention_id,
            checkout_url=checkout_url(self._settings.api_base, self._settings.public_key,
                                      client_secret),
            provider_order_id=_provider_order_id(data.get("intention_order_id")),
        )

    def _fail(self, order: Order, message: str, context: str = "") -> PaymentProviderError:
        """Log the failure (without secrets) and return the error to raise."""
        log.warning("Paymob intention for order %s failed: %s%s", order.id, message,
                    f" [{self._redact(context)}]" if context else "")
        return PaymentProviderError(message)

    def _excerpt(self, response: requests.Response) -> str:
        try:
            text = response.text
        except Exception:  # pragma: no cover - undecodable bodies are unusual
            return "<unreadable body>"
        text = text[:_LOGGED_BODY_CHARS].replace("\n", " ")
        return f"HTTP {response.status_code}: {text}"

    def _redact(self, text: str) -> str:
        # Paymob should never echo a secret back, but a log is no place to find out.
        for secret in (self._settings.secret_key, self._settings.hmac_secret):
            if secret:
                text = text.replace(secret, "[redacted]")
        return text


def _as_int(value: str) -> int | str:
    """Paymob's order ids are integers on the wire; keep any other form as it came."""
    return int(value) if value.isascii() and value.isdigit() else value


def _provider_order_id(value: object) -> str | None:
    """Paymob's order id, when the create response includes one (it may not)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None
