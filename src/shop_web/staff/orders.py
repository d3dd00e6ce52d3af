"""Orders: the list with its filters, an order's page with its lines, customer, deadline,
payment and ledger, and the actions its state allows, each behind a confirmation page.

An action's confirmation form carries a key made when it is rendered, which reaches the use
case as the request's idempotency key: the same form sent twice acts once."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from shop_core.errors import ValidationError
from shop_core.orders import Order, OrderEvent, OrderQuery, OrderStatus
from shop_core.use_cases.back_office import find_orders, order_file
from shop_core.use_cases.cancelling import CancelOrder
from shop_web.bootstrap import current_shop
from shop_web.staff import forms
from shop_web.staff.actions import once
from shop_web.staff.blueprint import ID, blueprint
from shop_web.staff.products import new_request_key, request_key
from shop_web.staff.session import staff_id

STATUSES = [status.value for status in OrderStatus]
# What an order's state and balance allow staff to do, each behind its confirmation page.
ACTIONS: list[tuple[Callable[[Order], bool], str, str]] = [
    (lambda order: order.can(OrderEvent.CANCEL), "staff.cancel_order", "Cancel the order"),
    (lambda order: order.may_capture, "staff.capture_order", "Capture the payment"),
    (lambda order: order.may_refund, "staff.refund_order", "Refund"),
    (lambda order: order.may_void, "staff.void_order", "Void the payment"),
]


@blueprint.route("/orders/")
def orders() -> str | tuple[str, int]:
    args = request.args
    listing = {k: v for k, v in args.items() if k != "page"}
    try:
        status = forms.text(args, "status")
        if status and status not in STATUSES:
            raise ValidationError({"status": ["Choose one of the listed statuses."]})
        query = OrderQuery(
            status=OrderStatus(status) if status else None,
            needs_refund=True if args.get("needs_refund") == "1" else None,
            placed_from=forms.day(args, "from"), placed_before=forms.day(args, "to", end=True),
            reference=forms.optional_text(args, "q"), page=forms.page(args))
    except ValidationError as invalid:
        return render_template("staff/orders.html", section="staff.orders", found=None,
                               args=listing, statuses=STATUSES,
                               errors=forms.errors_of(invalid)), 400
    found = find_orders(current_shop().reader(), query, forms.optional_text(args, "customer"))
    return render_template("staff/orders.html", section="staff.orders", found=found,
                           args=listing, statuses=STATUSES, errors={})


@blueprint.route(f"/orders/<{ID}:order_id>")
def order(order_id: int) -> str:
    shop = current_shop()
    found = order_file(shop.reader(), order_id)
    return render_template("staff/order.html", section="staff.orders", file=found,
                           order=found.order, now=shop.clock.now(),
                           actions=[(endpoint, label) for allowed, endpoint, label in ACTIONS
                                    if allowed(found.order)])


@blueprint.route(f"/orders/<{ID}:order_id>/cancel", methods=["GET", "POST"])
def cancel_order(order_id: int) -> Response | str:
    """Cancel a pending order: its stock returns at once, its payment is closed."""
    shop = current_shop()
    if request.method == "GET":
        found = order_file(shop.reader(), order_id)
        return render_template(
            "staff/confirm.html", section="staff.orders", order=found.order,
            action=url_for("staff.cancel_order", order_id=order_id), request_key=new_request_key(),
            title=f"Cancel order #{order_id}?", button="Cancel the order",
            allowed=found.order.can(OrderEvent.CANCEL),
            consequence="The order becomes cancelled and its stock goes back on sale at once. "
                        "A payment the customer still makes is taken if the stock is there, "
                        "or flagged for a refund.")
    def cancel() -> str:
        order = shop.orders.cancel(CancelOrder(order_id=order_id, user_id=staff_id(),
                                               is_staff=True))
        return f"Order #{order.id} is {order.status.value}; its stock is back on sale."

    flash(once(request_key(), cancel).message, "success")
    return redirect(url_for("staff.order", order_id=order_id), 303)
