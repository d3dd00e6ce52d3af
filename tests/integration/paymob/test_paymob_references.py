"""How orders are named at Paymob: the merchant reference, and a callback naming an order."""

from __future__ import annotations

import pytest

from shop_adapters.paymob.callbacks import transaction_hmac, verify_transaction_callback
from shop_adapters.paymob.references import merchant_reference, order_id_from_reference

from .conftest import HMAC_SECRET
from .test_paymob_callbacks import body_for, sample_obj


def test_merchant_reference_round_trips_the_order_id() -> None:
    assert merchant_reference("shop", 42) == "shop-42"
    assert order_id_from_reference("shop", "shop-42") == 42


@pytest.mark.parametrize("reference", [None, "", "shop-", "other-42", "shop-4x", "shop42",
                                       "shop--42", "shop-٤٢", "other-1", "garbage"])
def test_foreign_or_malformed_references_name_no_order(reference: str | None) -> None:
    assert order_id_from_reference("shop", reference) is None


@pytest.mark.parametrize("reference", ["other-1", "garbage", "shop-"])
def test_a_callback_with_a_foreign_reference_names_no_order(reference: str) -> None:
    obj = sample_obj()
    obj["order"]["merchant_order_id"] = reference
    callback = verify_transaction_callback(body_for(obj), transaction_hmac(obj, HMAC_SECRET),
                                           HMAC_SECRET)
    assert callback is not None and callback.order_id is None


def test_the_configured_prefix_reads_the_reference() -> None:
    obj = sample_obj()
    obj["order"]["merchant_order_id"] = "kiosk-7"
    signature = transaction_hmac(obj, HMAC_SECRET)
    named = verify_transaction_callback(body_for(obj), signature, HMAC_SECRET,
                                        reference_prefix="kiosk")
    other = verify_transaction_callback(body_for(obj), signature, HMAC_SECRET)
    assert named is not None and named.order_id == 7
    assert other is not None and other.order_id is None
