"""Verifying Paymob's transaction processed callback: the HMAC over Paymob's documented
field list, and the reading of a verified body into the core's PaymentCallback."""

from __future__ import annotations

import copy
import hashlib
import hmac
from typing import Any

import pytest

from shop_adapters.paymob.callbacks import (
    TRANSACTION_HMAC_FIELDS,
    hmac_text,
    read_transaction,
    redirect_query_is_genuine,
    signed_string,
    token_hmac,
    transaction_hmac,
    verify_transaction_callback,
)
from shop_adapters.paymob.inquiry import lenient_booleans
from shop_core.errors import InvalidSignature, ValidationError
from shop_core.money import Money
from shop_core.payments import PaymentState

from .conftest import HMAC_SECRET


def sample_obj() -> dict[str, Any]:
    """Paymob's sample transaction processed callback ("HMAC Transaction Callback" page of
    the developer docs), reduced to the signed fields plus what the shop reads."""
    return {
        "id": 192036465,
        "pending": False,
        "amount_cents": 100000,
        "success": True,
        "is_auth": False,
        "is_capture": False,
        "is_standalone_payment": True,
        "is_voided": False,
        "is_refunded": False,
        "is_3d_secure": True,
        "integration_id": 4097558,
        "has_parent_transaction": False,
        "order": {"id": 217503754, "merchant_order_id": "shop-42", "amount_cents": 100000},
        "created_at": "2024-06-13T11:33:44.592345",
        "currency": "EGP",
        "source_data": {"pan": "2346", "type": "card", "tenure": None,
                        "sub_type": "MasterCard"},
        "is_void": False,
        "is_refund": False,
        "error_occured": False,
        "owner": 302852,
        "data": {"message": "Approved"},
    }


# The concatenation Paymob's docs print for that sample, copied by hand.
DOCUMENTED_STRING = (
    "100000" "2024-06-13T11:33:44.592345" "EGP" "false" "false" "192036465" "4097558"
    "true" "false" "false" "false" "true" "false" "217503754" "302852" "false"
    "2346" "MasterCard" "card" "true"
)
# HMAC-SHA512 of DOCUMENTED_STRING keyed with conftest.HMAC_SECRET, computed once and written
# down so that a change to the algorithm cannot silently change both sides.
EXPECTED_HMAC = (
    "538d3bdaa0d321e16a54530a8ac91befa5f6dd8b3cb87bba6f9fda0bcffa6f24"
    "0c627c2c4c118ba1ab01f8ccdcb2e1580d76a8a59f0b9e62419f844d4b320609"
)


def body_for(obj: dict[str, Any], kind: str = "TRANSACTION") -> dict[str, Any]:
    return {"type": kind, "obj": obj}


def test_signed_string_is_paymobs_documented_concatenation() -> None:
    assert signed_string(sample_obj(), TRANSACTION_HMAC_FIELDS) == DOCUMENTED_STRING


def test_fixed_vector() -> None:
    independent = hmac.new(HMAC_SECRET.encode(), DOCUMENTED_STRING.encode(),
                           hashlib.sha512).hexdigest()
    assert independent == EXPECTED_HMAC
    assert transaction_hmac(sample_obj(), HMAC_SECRET) == EXPECTED_HMAC


def test_verified_success_becomes_a_payment_callback() -> None:
    callback = verify_transaction_callback(body_for(sample_obj()), EXPECTED_HMAC, HMAC_SECRET)

    assert callback is not None
    assert callback.transaction_id == "192036465"
    assert callback.amount == Money(100000, "EGP")
    assert (callback.success, callback.pending) == (True, False)
    assert (callback.is_refund, callback.is_void, callback.has_parent_transaction) == (
        False, False, False)
    assert callback.order_id == 42
    assert callback.provider_order_id == "217503754"
    assert not callback.is_reversal


def test_hmac_in_upper_case_is_accepted() -> None:
    assert verify_transaction_callback(body_for(sample_obj()), EXPECTED_HMAC.upper(),
                                       HMAC_SECRET) is not None


def _tampered(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    return f"{value}0"


def _set(obj: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for key in parents:
        obj = obj[key]
    obj[leaf] = value


def _get(obj: dict[str, Any], dotted: str) -> Any:
    for key in dotted.split("."):
        obj = obj[key]
    return obj


@pytest.mark.parametrize("field", TRANSACTION_HMAC_FIELDS)
def test_tampering_with_any_signed_field_fails(field: str) -> None:
    obj = sample_obj()
    _set(obj, field, _tampered(_get(obj, field)))

    with pytest.raises(InvalidSignature):
        verify_transaction_callback(body_for(obj), EXPECTED_HMAC, HMAC_SECRET)


@pytest.mark.parametrize("field", TRANSACTION_HMAC_FIELDS)
def test_removing_any_signed_field_fails(field: str) -> None:
    obj = sample_obj()
    *parents, leaf = field.split(".")
    del (_get(obj, ".".join(parents)) if parents else obj)[leaf]

    with pytest.raises(InvalidSignature):
        verify_transaction_callback(body_for(obj), EXPECTED_HMAC, HMAC_SECRET)


def test_unsigned_fields_are_not_protected_by_the_hmac() -> None:
    # Paymob does not sign merchant_order_id: the shop must prefer the signed order.id
    # (the stored Paymob order id) when it has one. This test records that fact.
    obj = sample_obj()
    obj["order"]["merchant_order_id"] = "shop-43"
    callback = verify_transaction_callback(body_for(obj), EXPECTED_HMAC, HMAC_SECRET)
    assert callback is not None and callback.order_id == 43


@pytest.mark.parametrize("received", [None, "", "0" * 128, EXPECTED_HMAC[:-1],
                                      EXPECTED_HMAC + "0", "é" * 128])
def test_missing_or_wrong_hmac_fails(received: str | None) -> None:
    with pytest.raises(InvalidSignature):
        verify_transaction_callback(body_for(sample_obj()), received, HMAC_SECRET)


def test_hmac_made_with_another_secret_fails() -> None:
    with pytest.raises(InvalidSignature):
        verify_transaction_callback(body_for(sample_obj()),
                                    transaction_hmac(sample_obj(), "another-secret"),
                                    HMAC_SECRET)


def test_no_configured_secret_refuses_everything() -> None:
    with pytest.raises(InvalidSignature):
        verify_transaction_callback(body_for(sample_obj()), transaction_hmac(sample_obj(), ""),
                                    "")


def test_booleans_are_signed_in_json_spelling() -> None:
    assert (hmac_text(True), hmac_text(False), hmac_text(None)) == ("true", "false", "")
    assert hmac_text(0) == "0" and hmac_text(1) == "1"  # ints are not booleans
    text = signed_string(sample_obj(), TRANSACTION_HMAC_FIELDS)
    assert "True" not in text and "False" not in text
    obj = sample_obj()
    obj["success"] = "True"  # a string is signed as given, so it no longer verifies
    with pytest.raises(InvalidSignature):
        verify_transaction_callback(body_for(obj), EXPECTED_HMAC, HMAC_SECRET)


def test_refund_transaction_is_a_reversal() -> None:
    obj = sample_obj()
    obj.update(id=192036999, has_parent_transaction=True, is_refund=True, amount_cents=5000)
    callback = verify_transaction_callback(body_for(obj), transaction_hmac(obj, HMAC_SECRET),
                                           HMAC_SECRET)
    assert callback is not None
    assert callback.is_refund and callback.has_parent_transaction and callback.is_reversal
    assert callback.amount == Money(5000, "EGP")


@pytest.mark.parametrize(("flag", "attribute"), [
    ("is_refunded", "is_refund"), ("is_refund", "is_refund"),
    ("is_voided", "is_void"), ("is_void", "is_void"),
])
def test_either_spelling_of_refund_and_void_counts(flag: str, attribute: str) -> None:
    obj = sample_obj()
    obj[flag] = True
    callback = verify_transaction_callback(body_for(obj), transaction_hmac(obj, HMAC_SECRET),
                                           HMAC_SECRET)
    assert callback is not None and getattr(callback, attribute) is True


def test_verified_token_callback_is_ignored() -> None:
    token = {"id": 8555026, "token": "e98aceb96f5a370ddf46460db9d555f8",
             "masked_pan": "xxxx-xxxx-xxxx-2346", "merchant_id": 246628,
             "card_subtype": "MasterCard", "created_at": "2024-11-13T12:32:23.859982",
             "email": "test@test.com", "order_id": "264064419", "user_added": False}
    signature = hmac.new(
        HMAC_SECRET.encode(),
        b"MasterCard2024-11-13T12:32:23.859982test@test.com8555026xxxx-xxxx-xxxx-2346"
        b"246628264064419e98aceb96f5a370ddf46460db9d555f8",
        hashlib.sha512).hexdigest()
    assert token_hmac(token, HMAC_SECRET) == signature

    assert verify_transaction_callback(body_for(token, "TOKEN"), signature, HMAC_SECRET) is None
    with pytest.raises(InvalidSignature):
        verify_transaction_callback(body_for(token, "TOKEN"), EXPECTED_HMAC, HMAC_SECRET)


@pytest.mark.parametrize("kind", ["DELIVERY_STATUS", "transaction", None, 7])
def test_callback_types_without_a_known_signature_are_refused(kind: Any) -> None:
    # Signed over the transaction fields, yet not a TRANSACTION: nothing vouches for it.
    body = {"type": kind, "obj": sample_obj()}
    with pytest.raises(InvalidSignature):
        verify_transaction_callback(body, EXPECTED_HMAC, HMAC_SECRET)


@pytest.mark.parametrize("body", [None, [], "TRANSACTION", 42, {"type": "TRANSACTION"},
                                  {"type": "TRANSACTION", "obj": [1, 2]},
                                  {"type": "TRANSACTION", "obj": "x"}])
def test_body_that_is_not_a_callback_is_a_validation_error(body: Any) -> None:
    with pytest.raises(ValidationError):
        verify_transaction_callback(body, EXPECTED_HMAC, HMAC_SECRET)


def test_missing_hmac_is_refused_before_the_body_is_read() -> None:
    with pytest.raises(InvalidSignature):
        verify_transaction_callback([], None, HMAC_SECRET)


@pytest.mark.parametrize(("change", "error_path"), [
    ({"amount_cents": "100000"}, ("amount_cents",)),
    ({"amount_cents": 12.5}, ("amount_cents",)),
    ({"amount_cents": -1}, ("amount_cents",)),
    ({"amount_cents": True}, ("amount_cents",)),
    ({"currency": "egp"}, ("currency",)),
    ({"currency": None}, ("currency",)),
    ({"success": "true"}, ("success",)),
    ({"pending": None}, ("pending",)),
    ({"has_parent_transaction": 0}, ("has_parent_transaction",)),
    ({"id": None}, ("id",)),
    ({"id": ""}, ("id",)),
    ({"order": None}, ("order", "id")),
    ({"order": {"merchant_order_id": "shop-42"}}, ("order", "id")),
    ({"order": {"id": 217503754, "merchant_order_id": ["shop-42"]}},
     ("order", "merchant_order_id")),
])
def test_signed_but_malformed_transaction_is_a_validation_error(
        change: dict[str, Any], error_path: tuple[str, ...]) -> None:
    obj = copy.deepcopy(sample_obj())
    obj.update(change)

    with pytest.raises(ValidationError) as raised:
        verify_transaction_callback(body_for(obj), transaction_hmac(obj, HMAC_SECRET),
                                    HMAC_SECRET)

    node: Any = raised.value.field_errors["obj"]
    for key in error_path:
        node = node[key]
    assert node and all(isinstance(message, str) for message in node)


def test_missing_optional_reference_reads_as_none() -> None:
    obj = sample_obj()
    obj["order"] = {"id": 217503754, "merchant_order_id": None}
    del obj["is_refund"], obj["is_void"]
    callback = verify_transaction_callback(body_for(obj), transaction_hmac(obj, HMAC_SECRET),
                                           HMAC_SECRET)
    assert callback is not None
    assert callback.order_id is None
    assert (callback.is_refund, callback.is_void) == (False, False)


def redirect_query() -> dict[str, str]:
    """The customer's redirect: the same values as flat query parameters, all text."""
    obj = sample_obj()
    query = {name: hmac_text(obj[name]) for name in TRANSACTION_HMAC_FIELDS if "." not in name}
    query.update({"order_id": "217503754", "source_data.pan": "2346",
                  "source_data.sub_type": "MasterCard", "source_data.type": "card",
                  "merchant_order_id": "shop-42", "data.message": "Approved"})
    return query


def test_genuine_redirect_query_is_recognised() -> None:
    query = redirect_query()
    query["hmac"] = EXPECTED_HMAC
    assert redirect_query_is_genuine(query, HMAC_SECRET)


def test_redirect_query_with_paymobs_order_key_is_recognised() -> None:
    query = redirect_query()
    query["order"] = query.pop("order_id")
    query["hmac"] = EXPECTED_HMAC
    assert redirect_query_is_genuine(query, HMAC_SECRET)


@pytest.mark.parametrize("change", [{"success": "false"}, {"hmac": ""}, {"hmac": "0" * 128},
                                    {"amount_cents": "100001"}])
def test_forged_redirect_query_is_not_genuine(change: dict[str, str]) -> None:
    query = redirect_query()
    query["hmac"] = EXPECTED_HMAC
    query.update(change)
    assert not redirect_query_is_genuine(query, HMAC_SECRET)
    assert not redirect_query_is_genuine({}, HMAC_SECRET)


@pytest.mark.parametrize(("source", "bill", "state", "reference"), [
    ("aggregator", 7412589, PaymentState.AWAITING_KIOSK_PAYMENT, "7412589"),
    ("card", "99001", PaymentState.AWAITING_KIOSK_PAYMENT, "99001"),
    ("valu", None, PaymentState.AWAITING_APPROVAL, None),
    ("card", None, PaymentState.AWAITING_PAYMENT, None),
])
def test_a_pending_transaction_says_what_it_waits_for(
        source: str, bill: object, state: PaymentState, reference: str | None) -> None:
    obj = sample_obj()
    obj.update(pending=True, success=False)
    obj["source_data"]["type"] = source
    obj.setdefault("data", {})["bill_reference"] = bill
    callback = verify_transaction_callback(
        body_for(obj), transaction_hmac(obj, HMAC_SECRET), HMAC_SECRET)
    assert callback is not None
    assert (callback.awaiting, callback.payment_reference) == (state, reference)


def test_an_inquirys_answer_is_read_like_a_callback_even_with_booleans_as_text() -> None:
    obj = sample_obj()
    obj.update(success="true", pending="false", is_refunded="false")
    callback = read_transaction(lenient_booleans(obj), "shop")
    assert (callback.success, callback.pending, callback.order_id) == (True, False, 42)
