"""Orders: the list with its filters, and an order's page with its lines, customer,
deadline, payment and ledger."""

from __future__ import annotations

from flask import render_template, request

from shop_core.errors import ValidationError
from shop_core.orders import OrderQuery, OrderStatus
from shop_core.use_cases.back_office import find_orders, order_file
from shop_web.bootstrap import current_shop
from shop_web.staff import forms
from shop_web.staff.blueprint import blueprint

STATUSES = [status.value for status in OrderStatus]


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


@blueprint.route("/orders/<int:order_id>")
def order(order_id: int) -> str:
    shop = current_shop()
    found = order_file(shop.reader(), order_id)
    return render_template("staff/order.html", section="staff.orders", file=found,
                           order=found.order, now=shop.clock.now())
