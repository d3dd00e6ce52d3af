"""The offline stand-in for Paymob's hosted checkout, for development only.

Pressing Pay or Decline builds a transaction callback exactly as Paymob builds and signs it and
delivers it over HTTP to the shop's own `/webhook/`, from a background thread: like Paymob's,
the callback travels independently of the browser's request, so a single-worker server never
has a request waiting on another request to itself."""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from shop_adapters.paymob.references import client_secret as client_secret_of
from shop_adapters.paymob.sandbox import (
    SANDBOX_CHECKOUT_PATH,
    build_transaction_callback,
    deliver_until_acknowledged,
    order_id_from_client_secret,
)
from shop_core.errors import NotFound
from shop_core.orders import Order, OrderStatus
from shop_core.use_cases.ordering import get_order
from shop_web.bootstrap import current_shop, sandbox_ledger

log = logging.getLogger(__name__)

blueprint = Blueprint("sandbox", __name__, url_prefix=SANDBOX_CHECKOUT_PATH.rstrip("/"))


@blueprint.get("/")
def checkout() -> str:
    order = _order_for(request.args.get("clientSecret", ""))
    shop = current_shop()
    payable = order.status is OrderStatus.PENDING and shop.clock.now() < order.expires_at
    return render_template("sandbox_checkout.html", order=order, payable=payable,
                           client_secret=request.args["clientSecret"])


@blueprint.post("/")
def pay() -> Response:
    client_secret = request.form.get("clientSecret", "")
    order = _order_for(client_secret)
    action = request.form.get("action")
    if action not in ("pay", "decline"):
        abort(400)
    shop = current_shop()
    body, signature = build_transaction_callback(
        order, success=action == "pay", transaction_id=secrets.randbelow(10**12) + 1,
        settings=shop.paymob, now=shop.clock.now(),
    )
    # Paymob knows its transaction whether or not the callback reaches the shop: the
    # sandbox's record answers `shop reconcile` offline.
    sandbox_ledger(shop.settings).record(body["obj"])
    webhook_url = shop.paymob.notification_url
    threading.Thread(target=_deliver, args=(webhook_url, body, signature),
                     name="sandbox-callback", daemon=True).start()
    return redirect(url_for("sandbox.result", clientSecret=client_secret,
                            expected="success" if action == "pay" else "failed"), code=303)


@blueprint.get("/result")
def result() -> str:
    order = _order_for(request.args.get("clientSecret", ""))
    return render_template("sandbox_result.html", order=order,
                           expected=request.args.get("expected", ""))


def _deliver(url: str, body: dict[str, Any], signature: str) -> None:
    status = deliver_until_acknowledged(url, body, signature, timeout=10.0)
    if status is not None and status < 300:
        log.info("Sandbox delivered a callback to %s: HTTP %s", url, status)
    else:
        log.warning("Sandbox gave up delivering a callback to %s: %s", url,
                    f"HTTP {status}" if status else "unreachable")


def _order_for(client_secret: str) -> Order:
    """The order this client secret was issued for; 404 for anything else."""
    order_id = order_id_from_client_secret(client_secret)
    if order_id is None:
        abort(404)
    shop = current_shop()
    try:
        order = get_order(shop.reader(), order_id, user_id=None)
    except NotFound:
        abort(404)
    stored = client_secret_of(order.payment) or ""
    if not hmac.compare_digest(stored.encode(), client_secret.encode()):
        abort(404)
    return order
