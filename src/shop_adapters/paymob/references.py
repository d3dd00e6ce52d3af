"""How the shop's orders are named at Paymob: the merchant reference (`special_reference`,
sent back in callbacks as `merchant_order_id`) and the intention's client secret, which the
checkout URL carries. The core knows neither; this adapter reads and writes both."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from shop_core.payments import PaymentIntention

# PAYMOB_REFERENCE_PREFIX's default.
DEFAULT_PREFIX = "shop"


def merchant_reference(prefix: str, order_id: int) -> str:
    """The reference Paymob stores and sends back: ``shop-42``, so that staff find an order
    in Paymob's dashboard by its id."""
    return f"{prefix}-{order_id}"


def order_id_from_reference(prefix: str, reference: str | None) -> int | None:
    """The order id inside a reference made by `merchant_reference`, if it is one."""
    if not reference or not reference.startswith(f"{prefix}-"):
        return None
    digits = reference[len(prefix) + 1:]
    return int(digits) if digits.isascii() and digits.isdigit() else None


def client_secret(payment: PaymentIntention | None) -> str | None:
    """The intention's client secret: the `clientSecret` of its checkout URL."""
    if payment is None:
        return None
    values = parse_qs(urlsplit(payment.checkout_url).query).get("clientSecret")
    return values[0] if values else None
