"""Money after the payment, from an order's page: refund, void and capture, each after a
confirmation page, through the use cases the API calls, once per form however often it is
sent (`staff.actions.once`). The provider is asked while the page waits, as the API's
caller does; an answer that does not come in time leaves the amount held, which the order
page and the dashboard show until the callback or reconciliation settles it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from shop_core.errors import Conflict, PaymentProviderError, ValidationError
from shop_core.ledger import Result
from shop_core.money import Money
from shop_core.orders import Order
from shop_core.payments import PaymentEvent
from shop_core.use_cases.operations import Capture, Refund, Void
from shop_core.use_cases.ordering import get_order
from shop_web.bootstrap import current_shop
from shop_web.errors import status_for
from shop_web.staff import forms
from shop_web.staff.actions import once
from shop_web.staff.blueprint import ID, blueprint
from shop_web.staff.products import new_request_key, request_key
from shop_web.staff.session import staff_id

Page = str | tuple[str, int]
# What a form asks for: read from the order and the form's fields (a `ValidationError`
# names a bad one), the call to the use case that moves the money.
Ask = Callable[[Order, Mapping[str, str]], Callable[[], PaymentEvent]]


@blueprint.route(f"/orders/<{ID}:order_id>/refund", methods=["GET", "POST"])
def refund_order(order_id: int) -> Response | Page:
    """Give part or all of the refundable balance back; restock with a refund of all of it."""
    def ask(order: Order, values: Mapping[str, str]) -> Callable[[], PaymentEvent]:
        amount = _amount(values, order)
        restock, reason = values.get("restock") == "1", forms.text(values, "reason")
        return lambda: current_shop().orders.refund(
            Refund(order_id, staff_id(), amount, restock, reason))

    return _confirmed(order_id, "refund", "Refund", lambda order: order.may_refund,
                      "The money goes back to the customer's card or wallet. A refund of "
                      "everything left may put the order's stock back on sale.", ask)


@blueprint.route(f"/orders/<{ID}:order_id>/void", methods=["GET", "POST"])
def void_order(order_id: int) -> Response | Page:
    """Cancel the payment (or authorization) before the provider settles it."""
    return _confirmed(
        order_id, "void", "Void the payment", lambda order: order.may_void,
        "The payment is cancelled before it settles: the customer is not charged, the order "
        "becomes voided and its stock goes back on sale. Once the provider has settled it "
        "(usually the next day) it can only be refunded.",
        lambda order, values: lambda: current_shop().orders.void(Void(order_id, staff_id())))


@blueprint.route(f"/orders/<{ID}:order_id>/capture", methods=["GET", "POST"])
def capture_order(order_id: int) -> Response | Page:
    """Collect an authorization: all of it, or part."""
    def ask(order: Order, values: Mapping[str, str]) -> Callable[[], PaymentEvent]:
        amount = _amount(values, order)
        return lambda: current_shop().orders.capture(Capture(order_id, staff_id(), amount))

    return _confirmed(order_id, "capture", "Capture", lambda order: order.may_capture,
                      "The authorized money is collected and the order becomes paid. What is "
                      "not captured is released to the customer.", ask)


def _confirmed(order_id: int, action: str, button: str, allowed: Callable[[Order], bool],
               consequence: str, ask: Ask) -> Response | Page:
    """The confirmation page (GET), or its form's action run once (POST). A bad field, or a
    refusal (the balance moved on, the provider said no), shows the form again with the
    reason and a fresh key."""
    order = _order(order_id)
    page = _page(order, action, button, allowed(order), consequence)
    if request.method == "GET":
        return page({}, {})
    values = request.form
    try:
        call = ask(order, values)
        message = once(request_key(), lambda: _said(call())).message
    except (ValidationError, Conflict, PaymentProviderError) as error:
        return page(values, forms.errors_of(error)), status_for(error)
    # Said from the order as it stands, so a repeated form is told the same.
    held = _order(order_id).balance.held
    flash(message, "warning" if held else "success")
    return redirect(url_for("staff.order", order_id=order_id), 303)


def _order(order_id: int) -> Order:
    return get_order(current_shop().reader(), order_id, user_id=None)


def _page(order: Order, action: str, button: str, allowed: bool, consequence: str
          ) -> Callable[[Mapping[str, str], dict[str, Any]], str]:
    def render(values: Mapping[str, str], errors: dict[str, Any]) -> str:
        return render_template(
            "staff/confirm_money.html", section="staff.orders", order=order, kind=action,
            action=url_for(f"staff.{action}_order", order_id=order.id),
            request_key=new_request_key(), title=f"{button} order #{order.id}?",
            button=button, allowed=allowed, consequence=consequence, values=values,
            errors=errors)
    return render


def _amount(values: Mapping[str, str], order: Order) -> Money | None:
    """The form's amount; left empty, everything the action may take."""
    if not forms.text(values, "amount"):
        return None
    amount = forms.money(values, "amount", order.currency)
    if not amount.is_positive:
        raise ValidationError({"amount": ["Enter an amount above zero."]})
    return amount


def _said(entry: PaymentEvent) -> str:
    what = f"{entry.movement.value.capitalize()} of {entry.amount.format()} " \
           f"{entry.amount.currency}"
    if entry.result is Result.SUCCEEDED:
        return f"{what} done."
    return (f"{what} asked of the provider, which did not answer in time: the amount stays "
            "held until its callback or reconciliation with the provider settles it.")
