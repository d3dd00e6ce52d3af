"""Paymob's two calls back to the shop: the verified server-to-server webhook that settles
payments, and the page the customer's browser returns to (which never changes anything)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, render_template, request
from marshmallow import Schema, fields

from shop_adapters.paymob.callbacks import redirect_query_is_genuine, verify_transaction_callback
from shop_adapters.paymob.references import order_id_from_reference
from shop_adapters.paymob.settings import CALLBACK_PATH, RETURN_PATH
from shop_core.errors import InvalidSignature, NotFound, ValidationError
from shop_core.use_cases.ordering import get_order
from shop_web import metrics, request_log
from shop_web.api.base import ShopBlueprint
from shop_web.bootstrap import current_shop

log = logging.getLogger(__name__)

blueprint = ShopBlueprint("payments", __name__, description="Paymob's callbacks.")
pages = Blueprint("payment_pages", __name__)


class CallbackReceivedSchema(Schema):
    detail = fields.String(required=True)
    outcome = fields.String(metadata={
        "description": "What the callback did: paid, late_paid, declined, needs_refund, "
                       "authorized, captured, reversal_recorded, still_pending, "
                       "amount_mismatch, unknown_order, ignored or duplicate."})


@blueprint.route(CALLBACK_PATH, methods=["POST"], operation_id="receivePaymobCallback")
@blueprint.response(200, CallbackReceivedSchema)
@blueprint.errors(400, 401)
@blueprint.doc(parameters=[{"in": "query", "name": "hmac", "required": True,
                            "schema": {"type": "string"},
                            "description": "Paymob's HMAC-SHA512 of the transaction."}],
               requestBody={"required": True, "content": {"application/json": {"schema": {
                   "type": "object", "description": "Paymob's transaction processed callback: "
                   '{"type": "TRANSACTION", "obj": {...}}.'}}}})
def webhook() -> dict[str, Any]:
    """Paymob's transaction processed callback, verified by its HMAC.

    Each transaction is applied once, however often it is delivered; repeats, unknown
    orders and other callback types are answered 200 so that Paymob stops retrying."""
    shop = current_shop()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        metrics.count_callback("malformed")
        raise ValidationError({}, "The callback body must be a JSON object.")
    try:
        callback = verify_transaction_callback(
            body, request.args.get("hmac"), shop.paymob.hmac_secret,
            reference_prefix=shop.paymob.reference_prefix)
    except InvalidSignature as refused:
        # Worth an operator's eye: with a wrong PAYMOB_HMAC_SECRET every payment is refused.
        log.warning("Refused a Paymob callback: %s", refused)
        metrics.count_callback("bad_signature")
        raise
    except ValidationError:
        metrics.count_callback("malformed")
        raise
    if callback is None:
        log.info("Ignored a verified Paymob callback of type %r", body.get("type"))
        metrics.count_callback("ignored")
        return {"detail": "Ignored: not a transaction callback.", "outcome": "ignored"}
    request_log.bind(transaction_id=callback.transaction_id, order_id=callback.order_id)
    outcome = shop.orders.apply_callback(callback)
    metrics.count_callback(outcome.value, callback)
    return {"detail": "Received.", "outcome": outcome.value}


@pages.get(RETURN_PATH)
def payment_return() -> str:
    """Where Paymob sends the customer after paying. It shows the order's outcome as the
    shop knows it; only the verified webhook ever changes that outcome."""
    shop = current_shop()
    order_id = order_id_from_reference(shop.paymob.reference_prefix,
                                       request.args.get("merchant_order_id"))
    order = None
    if order_id is not None and _redirect_is_genuine(shop.paymob.hmac_secret):
        try:
            order = get_order(shop.reader(), order_id, user_id=None)
        except NotFound:
            order = None
    return render_template("payment_return.html", order=order)


def _redirect_is_genuine(secret: str) -> bool:
    """The redirect's query string carries the transaction fields and Paymob's HMAC over
    them; without a valid one the page reveals nothing about any order."""
    try:
        return redirect_query_is_genuine(request.args.to_dict(), secret)
    except (InvalidSignature, ValidationError):
        return False
