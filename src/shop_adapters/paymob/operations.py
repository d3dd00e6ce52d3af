"""Paymob's refund, void and capture APIs, the live side of the core's `PaymentOperations`.

Each is one POST with `Authorization: Token <secret key>` and integer ids and cents, answered
by the transaction Paymob made (which it also sends to the webhook). None is ever retried:
a second refund request is a second refund. A failure says whether Paymob surely did
nothing (`ProviderRefused` for a 4xx, `PaymentProviderError` when the request never left)
or may have acted (`OutcomeUnknown`: a timeout, a dropped connection, a 5xx — which a proxy
in front of Paymob may return after Paymob acted — or an answer the shop cannot read).
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from shop_adapters.paymob.callbacks import read_answer
from shop_adapters.paymob.gateway import excerpt, redact
from shop_adapters.paymob.settings import PaymobSettings
from shop_core.errors import (
    OutcomeUnknown,
    PaymentProviderError,
    ProviderRefused,
    ValidationError,
)
from shop_core.money import Money
from shop_core.orders import Order
from shop_core.payments import ProviderTransaction

log = logging.getLogger(__name__)

REFUND_PATH = "/api/acceptance/void_refund/refund"
VOID_PATH = "/api/acceptance/void_refund/void"
CAPTURE_PATH = "/api/acceptance/capture"


class PaymobOperations:
    """Refunds, voids and captures at Paymob Accept."""

    def __init__(self, settings: PaymobSettings, session: requests.Session | None = None
                 ) -> None:
        self._settings = settings
        self._session = session or requests.Session()

    def refund(self, order: Order, transaction_id: str, amount: Money) -> ProviderTransaction:
        return self._post("refund", order, REFUND_PATH, {
            "transaction_id": int(transaction_id), "amount_cents": amount.amount})

    def void(self, order: Order, transaction_id: str) -> ProviderTransaction:
        return self._post("void", order, VOID_PATH, {"transaction_id": int(transaction_id)})

    def capture(self, order: Order, transaction_id: str, amount: Money) -> ProviderTransaction:
        return self._post("capture", order, CAPTURE_PATH, {
            "transaction_id": int(transaction_id), "amount_cents": amount.amount})

    def _post(self, operation: str, order: Order, path: str,
              body: dict[str, Any]) -> ProviderTransaction:
        settings = self._settings
        try:
            response = self._session.post(
                f"{settings.api_base}{path}", json=body, timeout=settings.timeout,
                allow_redirects=False,
                headers={"Authorization": f"Token {settings.secret_key}",
                         "Accept": "application/json"})
        except requests.ConnectTimeout:
            raise self._failed(operation, order, "could not be reached") from None
        except requests.Timeout:
            raise self._unknown(operation, order, "did not answer in time") from None
        except requests.ConnectionError as error:
            if _never_sent(error):
                raise self._failed(operation, order, "could not be reached") from None
            raise self._unknown(operation, order, "dropped the connection") from None
        except requests.RequestException as error:
            raise self._failed(operation, order, type(error).__name__) from None
        if 400 <= response.status_code < 500:
            log.warning("Paymob refused the %s for order %s: %s", operation, order.id,
                        redact(settings, excerpt(response)))
            raise ProviderRefused(f"The payment provider refused the {operation} "
                                  f"(HTTP {response.status_code}).")
        if not 200 <= response.status_code < 300:
            raise self._unknown(operation, order, f"failed (HTTP {response.status_code})",
                                excerpt(response))
        try:
            return read_answer(response.json())
        except (ValueError, ValidationError):
            raise self._unknown(operation, order, "answered something unreadable",
                                excerpt(response)) from None

    def _failed(self, operation: str, order: Order, why: str) -> PaymentProviderError:
        log.warning("Paymob %s for order %s failed: the provider %s", operation, order.id, why)
        return PaymentProviderError(f"The payment provider {why}; the {operation} was not "
                                    "made.")

    def _unknown(self, operation: str, order: Order, why: str,
                 context: str = "") -> OutcomeUnknown:
        log.warning("Paymob %s for order %s: the provider %s; its callback will settle it%s",
                    operation, order.id, why,
                    f" [{redact(self._settings, context)}]" if context else "")
        return OutcomeUnknown(f"The payment provider {why}; the {operation} may have been "
                              "made, and its callback will settle it.")


def _never_sent(error: requests.ConnectionError) -> bool:
    """Whether the connection failed before the request went out (refused, unresolvable)."""
    reason = error.args[0] if error.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)
