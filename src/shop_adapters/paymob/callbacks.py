"""Verifying Paymob's server-to-server callbacks and reducing them to the core's terms.

Paymob does not sign the raw body. It sends `?hmac=<hex>`: HMAC-SHA512, keyed with the
merchant's HMAC secret, over the values of a fixed list of fields concatenated without
separators, in the order Paymob documents ("HMAC Transaction Callback", Paymob developer docs:
Webhook callbacks and HMAC > HMAC). Anything outside that list (notably
`order.merchant_order_id`) is not covered by the signature.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from attrs import evolve

from shop_adapters.paymob.references import DEFAULT_PREFIX, order_id_from_reference
from shop_core.errors import InvalidSignature, ValidationError
from shop_core.money import Money
from shop_core.payments import PaymentCallback, PaymentState

# Paymob's documented order for the transaction processed (POST) callback, read from `obj`.
# The transaction response (GET, the customer's redirect) carries the same values as flat
# query parameters, with `order_id` in place of `order.id`.
TRANSACTION_HMAC_FIELDS: tuple[str, ...] = (
    "amount_cents",
    "created_at",
    "currency",
    "error_occured",  # sic: Paymob's spelling
    "has_parent_transaction",
    "id",
    "integration_id",
    "is_3d_secure",
    "is_auth",
    "is_capture",
    "is_refunded",
    "is_standalone_payment",
    "is_voided",
    "order.id",
    "owner",
    "pending",
    "source_data.pan",
    "source_data.sub_type",
    "source_data.type",
    "success",
)

# The card token callback ("type": "TOKEN") is signed the same way over its own keys in
# lexicographic order. The shop never saves cards, so it only needs to recognise (and then
# ignore) one.
TOKEN_HMAC_FIELDS: tuple[str, ...] = (
    "card_subtype",
    "created_at",
    "email",
    "id",
    "masked_pan",
    "merchant_id",
    "order_id",
    "token",
)

_SIGNED_FIELDS: dict[str, tuple[str, ...]] = {
    "TRANSACTION": TRANSACTION_HMAC_FIELDS,
    "TOKEN": TOKEN_HMAC_FIELDS,
}


def hmac_text(value: object) -> str:
    """One value as Paymob writes it into the signed string: booleans as ``true``/``false``
    (JSON's spelling, not Python's), null as the empty string, everything else as text."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def _lookup(obj: Mapping[str, Any], dotted: str) -> object:
    value: object = obj
    for key in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def signed_string(obj: Mapping[str, Any], fields: tuple[str, ...]) -> str:
    """The concatenation Paymob signs. Missing fields count as empty, so that a damaged body
    fails verification rather than raising."""
    return "".join(hmac_text(_lookup(obj, name)) for name in fields)


def _sign(text: str, secret: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha512).hexdigest()


def transaction_hmac(obj: Mapping[str, Any], secret: str) -> str:
    """The hex HMAC-SHA512 Paymob sends with a transaction callback whose `obj` is `obj`."""
    return _sign(signed_string(obj, TRANSACTION_HMAC_FIELDS), secret)


def token_hmac(obj: Mapping[str, Any], secret: str) -> str:
    """The hex HMAC-SHA512 Paymob sends with a card token callback whose `obj` is `obj`."""
    return _sign(signed_string(obj, TOKEN_HMAC_FIELDS), secret)


def transaction_response_hmac(query: Mapping[str, str], secret: str) -> str:
    """The hmac of a transaction response callback: the redirect's query parameters, already
    text (booleans arrive as ``true``/``false``)."""
    def value(name: str) -> str:
        if name == "order.id":
            # Paymob's docs name it `order_id`; redirects seen in the wild say `order`.
            return query.get("order_id", query.get("order", ""))
        return query.get(name, "")

    return _sign("".join(value(name) for name in TRANSACTION_HMAC_FIELDS), secret)


def redirect_query_is_genuine(query: Mapping[str, str], secret: str) -> bool:
    """Whether the customer's redirect from Paymob carries a valid `hmac` over its
    transaction fields. It proves only that Paymob produced the query: the redirect never
    changes an order, the verified server-to-server callback does."""
    received = query.get("hmac")
    if not secret or not isinstance(received, str) or not received:
        return False
    expected = transaction_response_hmac(query, secret)
    return hmac.compare_digest(expected.encode(), received.strip().lower().encode())


def verify_transaction_callback(body: object, received_hmac: str | None, secret: str, *,
                                reference_prefix: str = DEFAULT_PREFIX
                                ) -> PaymentCallback | None:
    """Check a callback's signature and read it.

    Returns the `PaymentCallback` of a verified ``TRANSACTION`` callback (its order id read
    from the merchant reference made with `reference_prefix`), and None for a
    verified card ``TOKEN`` callback (which the shop ignores). Raises `InvalidSignature` when
    the hmac is missing or wrong, when no secret is configured, and for any other callback
    type, since the shop cannot verify a signature Paymob does not document. Raises
    `ValidationError` when the body is not a JSON object with an `obj` object, or when a
    verified transaction lacks a field the shop decides on or has the wrong type for one.
    """
    if not secret:
        raise InvalidSignature("No Paymob HMAC secret is configured; callbacks are refused.")
    if not isinstance(received_hmac, str) or not received_hmac:
        raise InvalidSignature("The callback carries no hmac signature.")
    if not isinstance(body, Mapping):
        raise ValidationError({"body": ["Expected a JSON object."]},
                              "The callback body is not a JSON object.")
    obj = body.get("obj")
    if not isinstance(obj, Mapping):
        raise ValidationError({"obj": ["Expected a JSON object."]},
                              "The callback has no transaction object.")
    kind = body.get("type")
    fields = _SIGNED_FIELDS.get(kind) if isinstance(kind, str) else None
    if fields is None:
        raise InvalidSignature("The callback's type has no signature the shop can verify.")
    expected = _sign(signed_string(obj, fields), secret)
    # Bytes, so that a non-ASCII forgery is simply unequal rather than a TypeError.
    if not hmac.compare_digest(expected.encode(), received_hmac.strip().lower().encode()):
        raise InvalidSignature("The callback's hmac signature does not match.")
    if kind != "TRANSACTION":
        return None
    return read_transaction(obj, reference_prefix)


class _Reader:
    """Reads typed fields of a verified transaction, collecting every problem at once."""

    def __init__(self, obj: Mapping[str, Any]) -> None:
        self.obj = obj
        self.errors: dict[str, Any] = {}

    def _fail(self, path: str, message: str) -> None:
        *parents, leaf = path.split(".")
        node = self.errors
        for part in parents:
            node = node.setdefault(part, {})
        node.setdefault(leaf, []).append(message)

    def _get(self, path: str) -> tuple[bool, object]:
        value: object = self.obj
        for key in path.split("."):
            if not isinstance(value, Mapping) or key not in value:
                return False, None
            value = value[key]
        return True, value

    def boolean(self, path: str, *, default: bool | None = None) -> bool:
        present, value = self._get(path)
        if not present and default is not None:
            return default
        if isinstance(value, bool):
            return value
        self._fail(path, "This field is required." if not present else "Expected a boolean.")
        return False

    def identifier(self, path: str) -> str:
        present, value = self._get(path)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and value:
            return value
        self._fail(path, "This field is required." if not present
                   else "Expected an integer or a non-empty string.")
        return ""

    def amount(self, path: str) -> int:
        present, value = self._get(path)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        self._fail(path, "This field is required." if not present
                   else "Expected a whole number of the currency's smallest unit, "
                   "zero or more.")
        return 0

    def currency(self, path: str) -> str:
        present, value = self._get(path)
        if isinstance(value, str) and len(value) == 3 and value.isascii() and value.isupper():
            return value
        self._fail(path, "This field is required." if not present
                   else "Expected a three-letter ISO currency code.")
        return "XXX"

    def optional_text(self, path: str) -> str | None:
        present, value = self._get(path)
        if value is None or isinstance(value, str):
            return value or None
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        self._fail(path, "Expected a string or null.")
        return None


# Paymob's source types for cash paid at a kiosk (Aman, Masary) and for instalment lenders
# (valU, Souhoola...), as they appear in `source_data.type`, compared in lower case.
_KIOSK_SOURCES = frozenset({"aggregator", "kiosk", "cash"})
_INSTALMENT_SOURCES = frozenset({"valu", "souhoola", "installments", "installment", "bnpl"})


def _awaiting(obj: Mapping[str, Any]) -> tuple[PaymentState, str | None]:
    """What a pending transaction waits for, and the kiosk bill reference. Paymob's
    callback docs name no field for it: its kiosk payments report the bill reference as
    `data.bill_reference`, so the shop reads it there (and nowhere else)."""
    data = obj.get("data")
    reference = data.get("bill_reference") if isinstance(data, Mapping) else None
    bill = str(reference) if isinstance(reference, (int, str)) and not isinstance(
        reference, bool) and str(reference).strip() else None
    source = _lookup(obj, "source_data.type")
    kind = source.lower() if isinstance(source, str) else ""
    if bill is not None or kind in _KIOSK_SOURCES:
        return PaymentState.AWAITING_KIOSK_PAYMENT, bill
    if kind in _INSTALMENT_SOURCES:
        return PaymentState.AWAITING_APPROVAL, None
    return PaymentState.AWAITING_PAYMENT, None


def read_transaction(obj: Mapping[str, Any], reference_prefix: str) -> PaymentCallback:
    """A Paymob transaction object (a callback's `obj`, or an inquiry's answer) in the
    core's terms; `ValidationError` when a field the shop decides on is missing or of the
    wrong type."""
    read = _Reader(obj)
    callback = PaymentCallback(
        transaction_id=read.identifier("id"),
        amount=Money(read.amount("amount_cents"), read.currency("currency")),
        success=read.boolean("success"),
        pending=read.boolean("pending"),
        # Paymob names the flags of a refund/void transaction `is_refund`/`is_void` and those
        # of a payment that was later refunded/voided `is_refunded`/`is_voided`; either
        # means the transaction must not move an order. Only the latter pair is signed.
        is_refund=read.boolean("is_refund", default=False) | read.boolean("is_refunded"),
        is_void=read.boolean("is_void", default=False) | read.boolean("is_voided"),
        has_parent_transaction=read.boolean("has_parent_transaction"),
        order_id=order_id_from_reference(reference_prefix,
                                         read.optional_text("order.merchant_order_id")),
        provider_order_id=read.identifier("order.id"),
    )
    if callback.pending:
        state, bill = _awaiting(obj)
        callback = evolve(callback, awaiting=state, payment_reference=bill)
    if read.errors:
        raise ValidationError({"obj": read.errors}, "The transaction callback is malformed.")
    return callback
