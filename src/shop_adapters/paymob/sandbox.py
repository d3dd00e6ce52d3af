"""An offline stand-in for Paymob, for development and tests.

`SandboxGateway` creates intentions locally and points the customer at the shop's own sandbox
checkout page. That page builds a transaction processed callback exactly as Paymob does
(`build_transaction_callback`), signs it with the configured HMAC secret, and delivers it over
HTTP to the shop's `/webhook/` (`deliver_callback`), so the real webhook code verifies and
applies it unchanged. Like Paymob, it keeps a record of the transactions it processed
(`SandboxLedger`), from which `SandboxLookup` answers transaction inquiries offline.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from shop_adapters.paymob.callbacks import read_transaction, transaction_hmac
from shop_adapters.paymob.references import merchant_reference
from shop_adapters.paymob.settings import PaymobSettings
from shop_core.accounts import User
from shop_core.errors import PaymentProviderError
from shop_core.orders import Order
from shop_core.payments import PaymentCallback, PaymentIntention
from shop_core.ports import Clock

SANDBOX_CHECKOUT_PATH = "/sandbox/paymob/unifiedcheckout/"
# In the instance folder: the sandbox Paymob's record of the transactions it processed.
SANDBOX_LEDGER_FILE = "sandbox-paymob-transactions.jsonl"
# Fake Paymob order ids sit far above the shop's order ids, so the two are never confused.
PROVIDER_ORDER_OFFSET = 900_000_000
# The merchant ("owner") and card Paymob's own sample transaction callback shows.
SANDBOX_OWNER = 302852
SANDBOX_PAN = "2346"
SANDBOX_CARD_SUBTYPE = "MasterCard"

_CLIENT_SECRET = re.compile(r"sandbox_([1-9][0-9]{0,17})_[A-Za-z0-9_-]{16,}")


def sandbox_provider_order_id(order_id: int) -> str:
    """The fake Paymob order id the sandbox gives order `order_id`."""
    return str(PROVIDER_ORDER_OFFSET + order_id)


def order_id_from_client_secret(secret: str | None) -> int | None:
    """The order id a sandbox client secret was made for; None if it is not one.

    The secret names the order only so that the sandbox page can find it: the page must still
    compare the whole secret with the order's stored one (`hmac.compare_digest`)."""
    if not isinstance(secret, str):
        return None
    match = _CLIENT_SECRET.fullmatch(secret)
    return int(match[1]) if match else None


class SandboxGateway:
    """The core's `PaymentGateway`, offline: intentions are made up locally."""

    def __init__(self, settings: PaymobSettings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock

    def close_intention(self, order: Order) -> None:
        """Nothing to close: the sandbox page refuses to pay an order that is not pending."""
        return None

    def create_intention(self, order: Order, customer: User, expires_at: datetime,
                         methods: Sequence[str] = ()) -> PaymentIntention:
        """A local intention whose checkout URL is the shop's sandbox page. Never fails."""
        if order.id is None:
            raise ValueError("An order must be stored before it can be paid.")
        client_secret = f"sandbox_{order.id}_{secrets.token_urlsafe(24)}"
        query = urlencode({"publicKey": self._settings.public_key,
                           "clientSecret": client_secret})
        return PaymentIntention(
            intention_id=f"pi_sandbox_{secrets.token_hex(16)}",
            checkout_url=f"{self._settings.public_base_url}{SANDBOX_CHECKOUT_PATH}?{query}",
            provider_order_id=sandbox_provider_order_id(order.id),
        )


class SandboxLedger:
    """What the sandbox's Paymob processed: every transaction its checkout page built, one
    JSON line each in a file of the instance folder, so that every process of the shop
    (web workers, `shop reconcile`) reads the same record offline."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._index: tuple[tuple[int, int], dict[str, dict[str, Any]]] | None = None

    def record(self, obj: Mapping[str, Any]) -> None:
        line = json.dumps(obj, separators=(",", ":")) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as ledger:
            ledger.write(line)  # one write of one line in append mode: never interleaved

    def latest(self, reference: str) -> dict[str, Any] | None:
        """The last transaction recorded for the merchant reference `reference`."""
        with self._lock:
            try:
                stat = self.path.stat()
            except FileNotFoundError:
                return None
            # Read again only when the file grew: a sweep asks about many orders at once.
            if self._index is None or self._index[0] != (stat.st_mtime_ns, stat.st_size):
                self._index = ((stat.st_mtime_ns, stat.st_size), self._read())
            return self._index[1].get(reference)

    def _read(self) -> dict[str, dict[str, Any]]:
        latest: dict[str, dict[str, Any]] = {}
        with self.path.open(encoding="utf-8") as ledger:
            for line in ledger:
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash
                order = obj.get("order") if isinstance(obj, dict) else None
                if isinstance(order, dict) and isinstance(order.get("merchant_order_id"), str):
                    latest[order["merchant_order_id"]] = obj
        return latest


class SandboxLookup:
    """The core's `PaymentLookup`, offline: Paymob's transaction inquiry answered from
    what the sandbox recorded. Never fails."""

    def __init__(self, settings: PaymobSettings, ledger: SandboxLedger) -> None:
        self._settings = settings
        self._ledger = ledger

    def find_payment(self, order: Order) -> PaymentCallback | None:
        if order.id is None:
            return None
        obj = self._ledger.latest(merchant_reference(self._settings.reference_prefix,
                                                     order.id))
        return read_transaction(obj, self._settings.reference_prefix) if obj else None


def _paymob_time(moment: datetime) -> str:
    # Paymob writes naive ISO timestamps with microseconds, e.g. 2024-06-13T11:33:44.592345.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def build_transaction_callback(order: Order, *, success: bool, transaction_id: int,
                               settings: PaymobSettings,
                               now: datetime) -> tuple[dict[str, Any], str]:
    """The body of a transaction processed callback for a card payment of `order` (approved
    when `success`, else declined), shaped like Paymob's, and its hmac signed with
    `settings.hmac_secret`. Send it with `deliver_callback`."""
    if order.id is None:
        raise ValueError("Only a stored order can be paid.")
    payment = order.payment
    provider_order_id = (payment.provider_order_id if payment and payment.provider_order_id
                         else sandbox_provider_order_id(order.id))
    reference = merchant_reference(settings.reference_prefix, order.id)
    amount = order.total.amount
    created = _paymob_time(now)
    # Paid through an integration of the method the order was opened for, as at Paymob.
    chosen = settings.integration_ids_for([order.payment_method] if order.payment_method
                                          else ())
    integration_id = chosen[0] if chosen else 1
    obj: dict[str, Any] = {
        "id": transaction_id,
        "pending": False,
        "amount_cents": amount,
        "success": success,
        "is_auth": False,
        "is_capture": False,
        "is_standalone_payment": True,
        "is_voided": False,
        "is_refunded": False,
        "is_3d_secure": True,
        "integration_id": integration_id,
        "profile_id": SANDBOX_OWNER,
        "has_parent_transaction": False,
        "order": {
            "id": int(provider_order_id) if provider_order_id.isdigit() else provider_order_id,
            "created_at": _paymob_time(order.created_at),
            "delivery_needed": False,
            "merchant": {"id": SANDBOX_OWNER, "company_name": "Sandbox"},
            "collector": None,
            "amount_cents": amount,
            "shipping_data": None,
            "currency": order.currency,
            "is_payment_locked": False,
            "is_return": False,
            "is_cancel": False,
            "is_returned": False,
            "is_canceled": False,
            "merchant_order_id": reference,
            "wallet_notification": None,
            "paid_amount_cents": amount if success else 0,
            "notify_user_with_email": False,
            "items": [
                {"name": line.name, "description": line.name,
                 "amount_cents": line.unit_price.amount, "quantity": line.quantity}
                for line in order.lines
            ],
            "order_url": "NA",
            "commission_fees": 0,
            "delivery_fees_cents": 0,
            "delivery_vat_cents": 0,
            "payment_method": "tbc",
            "merchant_staff_tag": None,
            "api_source": "OTHER",
            "data": {},
        },
        "created_at": created,
        "transaction_processed_callback_responses": [],
        "currency": order.currency,
        "source_data": {"pan": SANDBOX_PAN, "type": "card", "tenure": None,
                        "sub_type": SANDBOX_CARD_SUBTYPE},
        "api_source": "IFRAME",
        "terminal_id": None,
        "merchant_commission": 0,
        "installment": None,
        "discount_details": [],
        "is_void": False,
        "is_refund": False,
        "data": {
            "message": "Approved" if success else "Do not honour",
            "txn_response_code": "APPROVED" if success else "DECLINED",
            "acq_response_code": "00" if success else "05",
            "amount": amount,
            "currency": order.currency,
            "klass": "VPCPayment",
            "created_at": created,
        },
        "is_hidden": False,
        "error_occured": False,
        "is_live": False,
        "other_endorsement_info": None,
        "refunded_amount_cents": 0,
        "source_id": -1,
        "is_captured": False,
        "captured_amount": 0,
        "merchant_staff_tag": None,
        "updated_at": created,
        "is_settled": False,
        "bill_balanced": False,
        "is_bill": False,
        "owner": SANDBOX_OWNER,
        "parent_transaction": None,
    }
    body = {"type": "TRANSACTION", "obj": obj, "issuer_bank": None,
            "transaction_processed_callback_responses": ""}
    return body, transaction_hmac(obj, settings.hmac_secret)


# After these pauses (seconds) the sandbox delivers a callback again while the webhook does
# not acknowledge it, as Paymob's emulators do: a restart or a database outage of the shop
# must not lose a payment in development either.
CALLBACK_RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0)


def deliver_until_acknowledged(webhook_url: str, body: dict[str, Any], hmac: str, *,
                               timeout: float,
                               delays: Sequence[float] = CALLBACK_RETRY_DELAYS,
                               sleep: Callable[[float], None] = time.sleep) -> int | None:
    """Deliver the callback, and again after each of `delays` while the webhook cannot be
    reached or answers 5xx; stop at the first 2xx or 4xx (a refusal a retry cannot change).
    The last status, or None when the webhook was never reached."""
    status: int | None = None
    for pause in (0.0, *delays):
        if pause:
            sleep(pause)
        try:
            status = deliver_callback(webhook_url, body, hmac, timeout=timeout)
        except PaymentProviderError:
            status = None
            continue
        if status < 500:
            return status
    return status


def deliver_callback(webhook_url: str, body: dict[str, Any], hmac: str,
                     timeout: float) -> int:
    """POST a callback to the shop's webhook as Paymob does (`?hmac=` in the query) and
    return the HTTP status. Raises `PaymentProviderError` when the webhook cannot be reached
    in `timeout` seconds. Not retried: see `deliver_until_acknowledged`."""
    # Imported here: only a press of Pay or Decline needs it, and a web worker in sandbox mode
    # would otherwise carry requests and urllib3 in memory for nothing.
    import requests

    try:
        response = requests.post(webhook_url, params={"hmac": hmac}, json=body,
                                 timeout=timeout, allow_redirects=False)
    except requests.RequestException as error:
        raise PaymentProviderError(
            f"The sandbox could not deliver the callback ({type(error).__name__})."
        ) from None
    response.close()
    return response.status_code
