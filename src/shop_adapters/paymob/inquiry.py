"""Asking Paymob about an order's payment: the core's `PaymentLookup`.

Paymob's transaction inquiry (`POST /api/ecommerce/orders/transaction_inquiry`, body
`{"merchant_order_id": "shop-42"}`) answers with the order's latest transaction, shaped like
a callback's `obj`, or 404 when the order has none. It needs a bearer token from
`POST /api/auth/tokens` (`{"api_key": ...}` → `{"token": ...}`), which lives 60 minutes; the
shop keeps it for 50 and fetches a new one when Paymob refuses it (401). Reading an answer is
safe to retry, but a pass of reconciliation simply moves on: its breaker decides when to
stop asking. Every call has a timeout; no secret or token is ever logged."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import requests

from shop_adapters.paymob.callbacks import read_transaction
from shop_adapters.paymob.check import AUTH_PATH
from shop_adapters.paymob.references import merchant_reference
from shop_adapters.paymob.settings import PaymobSettings
from shop_core.errors import PaymentProviderError, ValidationError
from shop_core.orders import Order
from shop_core.payments import PaymentCallback
from shop_core.ports import Clock

log = logging.getLogger(__name__)

INQUIRY_PATH = "/api/ecommerce/orders/transaction_inquiry"
# Paymob's tokens last an hour; ten minutes' margin covers clock drift and slow passes.
TOKEN_LIFETIME = timedelta(minutes=50)


def lenient_booleans(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Paymob's inquiry examples write some booleans as the strings "true"/"false"; read
    them as booleans, at any depth, so the callback's reader accepts them."""
    def fix(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {key: fix(item) for key, item in value.items()}
        if value in ("true", "false"):
            return value == "true"
        return value

    fixed: dict[str, Any] = fix(obj)
    return fixed


class PaymobLookup:
    """Transaction inquiry by the shop's merchant reference."""

    def __init__(self, settings: PaymobSettings, clock: Clock,
                 session: requests.Session | None = None) -> None:
        if not settings.api_key:
            raise ValueError("Paymob's transaction inquiry needs PAYMOB_API_KEY.")
        self._settings = settings
        self._clock = clock
        self._session = session or requests.Session()
        self._token: tuple[str, datetime] | None = None
        self._token_lock = threading.Lock()

    def find_payment(self, order: Order) -> PaymentCallback | None:
        if order.id is None:
            raise ValueError("Only a stored order has a payment.")
        reference = merchant_reference(self._settings.reference_prefix, order.id)
        response = self._inquire(reference, self._bearer())
        if response.status_code == 401:  # revoked or expired early: one fresh token
            self._token = None
            response = self._inquire(reference, self._bearer())
        if response.status_code == 404:
            return None
        data = self._json(response, order)
        obj = data["obj"] if isinstance(data.get("obj"), Mapping) else data
        try:
            found = read_transaction(lenient_booleans(obj), self._settings.reference_prefix)
        except ValidationError as error:
            raise self._fail(order, f"the inquiry's answer is not a transaction "
                                    f"({error.field_errors})") from None
        if found.order_id != order.id:
            raise self._fail(order, "the inquiry answered about another order")
        return found

    def _inquire(self, reference: str, token: str) -> requests.Response:
        return self._post(INQUIRY_PATH, {"merchant_order_id": reference},
                          {"Authorization": f"Bearer {token}"})

    def _bearer(self) -> str:
        with self._token_lock:
            now = self._clock.now()
            if self._token is not None and now < self._token[1]:
                return self._token[0]
            response = self._post(AUTH_PATH, {"api_key": self._settings.api_key}, {})
            if response.status_code != 201 and response.status_code != 200:
                raise self._fail(None, f"Paymob refused the API key (HTTP "
                                       f"{response.status_code})")
            token = self._json(response, None).get("token")
            if not isinstance(token, str) or not token:
                raise self._fail(None, "Paymob's auth answer has no token")
            self._token = (token, now + TOKEN_LIFETIME)
            return token

    def _post(self, path: str, body: dict[str, Any],
              headers: dict[str, str]) -> requests.Response:
        url = f"{self._settings.api_base}{path}"
        try:
            response = self._session.post(
                url, json=body, timeout=self._settings.inquiry_timeout, allow_redirects=False,
                headers={"Accept": "application/json", **headers})
        except requests.Timeout:
            raise self._fail(None, f"{path} did not answer in time") from None
        except requests.RequestException as error:
            raise self._fail(None, f"{path} could not be reached ({type(error).__name__})"
                             ) from None
        if response.status_code >= 500:
            raise self._fail(None, f"{path} failed (HTTP {response.status_code})")
        return response

    def _json(self, response: requests.Response, order: Order | None) -> Mapping[str, Any]:
        if not 200 <= response.status_code < 300:
            raise self._fail(order, f"Paymob answered HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise self._fail(order, "Paymob's answer is not JSON") from None
        if not isinstance(data, Mapping):
            raise self._fail(order, "Paymob's answer is not a JSON object")
        return data

    def _fail(self, order: Order | None, message: str) -> PaymentProviderError:
        about = f" for order {order.id}" if order is not None else ""
        return PaymentProviderError(f"Paymob transaction inquiry{about}: {message}.")
