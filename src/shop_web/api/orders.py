"""Orders: customers place and read their own; staff read everyone's, and move their money
after the payment (refunds, voids, captures) and read their ledger."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from marshmallow import Schema

from shop_core.accounts import User
from shop_core.errors import ValidationError
from shop_core.ledger import Result
from shop_core.money import Money
from shop_core.orders import CartLine, Order, OrderQuery, OrderStatus
from shop_core.payments import PaymentEvent
from shop_core.use_cases.cancelling import CancelOrder
from shop_core.use_cases.operations import Capture, Refund, Void, ledger_of
from shop_core.use_cases.ordering import PlaceOrder, get_order, list_orders
from shop_web.api.base import Decorator, F, ShopBlueprint
from shop_web.api.caller import require_user, user_id
from shop_web.api.pagination import page_body, page_request
from shop_web.bootstrap import current_shop
from shop_web.idempotency import idempotent
from shop_web.schemas.fields import MAX_ID
from shop_web.schemas.orders import (
    CaptureRequestSchema,
    IdempotencyHeaderSchema,
    LedgerEntrySchema,
    LedgerSchema,
    OrderPageSchema,
    OrderQuerySchema,
    OrderSchema,
    OutOfStockSchema,
    PlaceOrderSchema,
    RefundRequestSchema,
    RequiredIdempotencyHeaderSchema,
)

blueprint = ShopBlueprint("orders", __name__, url_prefix="/api/v1",
                          description="Orders and their payment.")

_FOR_STAFF = OrderSchema()
_FOR_CUSTOMER = OrderSchema(exclude=("user_id",))
_FOR_STAFF_MANY = OrderSchema(many=True)
_FOR_CUSTOMER_MANY = OrderSchema(many=True, exclude=("user_id",))
_ENTRY = LedgerEntrySchema()
_LEDGER = LedgerSchema()
_ORDER_PATH = f"/orders/<int(min=1, max={MAX_ID}):order_id>"


@blueprint.route("/orders/", methods=["GET"], operation_id="listOrders")
@blueprint.signed_in()
@blueprint.arguments(OrderQuerySchema, location="query")
@blueprint.response(200, OrderPageSchema)
@blueprint.errors(404)
def list_my_orders(args: dict[str, Any]) -> Response:
    """The caller's orders, newest first; staff see everyone's and may filter by customer
    and by `needs_refund`."""
    caller = require_user()
    status = OrderStatus(args["status"]) if args.get("status") else None
    if caller.is_staff:
        query = OrderQuery(user_id=args.get("user_id"), status=status,
                           needs_refund=args.get("needs_refund"), page=page_request(args))
    else:
        query = OrderQuery(user_id=user_id(caller), status=status, page=page_request(args))
    body = page_body(list_orders(current_shop().reader(), query))
    many = _FOR_STAFF_MANY if caller.is_staff else _FOR_CUSTOMER_MANY
    body["results"] = many.dump(body["results"])
    return jsonify(body)


@blueprint.route(f"/orders/<int(min=1, max={MAX_ID}):order_id>/", methods=["GET"],
                 operation_id="getOrder")
@blueprint.signed_in()
@blueprint.response(200, OrderSchema)
@blueprint.errors(404)
def read_order(order_id: int) -> Response:
    """One of the caller's orders (any order, for staff); anyone else's is 404."""
    caller = require_user()
    order = get_order(current_shop().reader(), order_id,
                      user_id=None if caller.is_staff else user_id(caller))
    return _order_response(order, caller, 200)


@blueprint.route("/orders/", methods=["POST"], operation_id="placeOrder")
@blueprint.signed_in()
@blueprint.arguments(IdempotencyHeaderSchema, location="headers")
@blueprint.arguments(PlaceOrderSchema)
@blueprint.response(201, OrderSchema)
@blueprint.alt_response(409, schema=OutOfStockSchema,
                        description="Not enough stock for some lines; nothing was reserved.")
@blueprint.errors(422, 502)
@idempotent(required=False)
def create_order(headers: dict[str, Any], data: dict[str, Any]) -> Response:
    """Reserve the cart's stock and open a Paymob payment: pay at `payment_url` before
    `expires_at`, which follows the payment window of `payment_method`. A product that does
    not exist or is deleted, an unknown payment method, or a wallet payment without a phone
    number is 400; a payment provider failure is 502 (the order is then `failed` and its
    stock restored)."""
    caller = require_user()
    command = PlaceOrder(
        user_id=user_id(caller),
        cart=tuple(CartLine(item["product_id"], item["quantity"])
                   for item in data["cart_items"]),
        payment_method=data.get("payment_method"),
    )
    order = current_shop().orders.place(command, customer=caller)
    return _order_response(order, caller, 201)


@blueprint.route(f"/orders/<int(min=1, max={MAX_ID}):order_id>/cancel/", methods=["POST"],
                 operation_id="cancelOrder")
@blueprint.signed_in()
@blueprint.arguments(IdempotencyHeaderSchema, location="headers")
@blueprint.response(200, OrderSchema)
@blueprint.errors(404, 409, 422)
@idempotent(required=False)
def cancel_order(headers: dict[str, Any], order_id: int) -> Response:
    """Cancel one of the caller's pending orders (staff: anyone's): it becomes `cancelled`
    and its stock returns at once. Anyone else's order is 404; an order no longer pending
    is 409. A payment Paymob still takes follows the late-payment rule."""
    caller = require_user()
    order = current_shop().orders.cancel(CancelOrder(
        order_id=order_id, user_id=user_id(caller), is_staff=caller.is_staff))
    return _order_response(order, caller, 200)


_MOVED = ("The ledger entry. 201: it succeeded; 202: the provider did not answer in time, "
          "so its outcome is `unknown` and the amount stays held until Paymob's callback "
          "settles it.")


def _moves_money(suffix: str, operation_id: str,
                 body: type[Schema] | None = None) -> Decorator:
    """A staff operation that moves an order's money: POST at `suffix` under the order, with
    a required Idempotency-Key and an optional `body`, answering the ledger entry."""
    stack: list[Decorator] = [  # top to bottom, as they would stand above the view
        blueprint.route(f"{_ORDER_PATH}{suffix}", methods=["POST"], operation_id=operation_id),
        blueprint.signed_in(staff=True),
        blueprint.arguments(RequiredIdempotencyHeaderSchema, location="headers"),
        *([blueprint.arguments(body)] if body is not None else []),
        blueprint.response(201, LedgerEntrySchema, description=_MOVED),
        blueprint.alt_response(202, schema=LedgerEntrySchema, description=_MOVED),
        blueprint.errors(404, 409, 422, 502),
        idempotent(required=True),
    ]

    def decorator(view: F) -> F:
        for decorate in reversed(stack):
            view = decorate(view)
        return view
    return decorator


@_moves_money("/refunds/", "refundOrder", body=RefundRequestSchema)
def refund(headers: dict[str, Any], data: dict[str, Any], order_id: int) -> Response:
    """Give part (`amount`) or all of an order's captured money back. More than the
    refundable balance, or an order with nothing captured, is 409; the provider refusing
    is 502 (nothing is refunded). Refunding a `needs_refund` order clears the flag once
    nothing more is owed."""
    amount = _amount(order_id, data.get("amount"))
    entry = current_shop().orders.refund(Refund(
        order_id, user_id(require_user()), amount, data["restock"], data["reason"]))
    return _entry_response(entry)


@_moves_money("/void/", "voidOrder")
def void(headers: dict[str, Any], order_id: int) -> Response:
    """Void the order's payment (or authorization) before it settles: the order becomes
    `voided` and its stock returns. Once settled (usually the next day) it is 409: refund
    it instead."""
    entry = current_shop().orders.void(Void(order_id, user_id(require_user())))
    return _entry_response(entry)


@_moves_money("/capture/", "captureOrder", body=CaptureRequestSchema)
def capture(headers: dict[str, Any], data: dict[str, Any], order_id: int) -> Response:
    """Capture an `authorized` order's money (`amount`, default all that was authorized):
    the order becomes `success`. Any other order is 409."""
    amount = _amount(order_id, data.get("amount"))
    entry = current_shop().orders.capture(Capture(order_id, user_id(require_user()), amount))
    return _entry_response(entry)


@blueprint.route(f"{_ORDER_PATH}/payments/", methods=["GET"], operation_id="getOrderLedger")
@blueprint.signed_in(staff=True)
@blueprint.response(200, LedgerSchema)
@blueprint.errors(404)
def payments(order_id: int) -> Response:
    """The order's ledger, oldest first: every payment, authorization, capture, refund and
    void, its amount, outcome, time, and who started it. `paid_amount` and
    `refunded_amount` are its sums."""
    order, entries = ledger_of(current_shop().reader(), order_id)
    return jsonify(_LEDGER.dump({"order_id": order.id, "paid_amount": order.paid_amount,
                                 "refunded_amount": order.refunded_amount,
                                 "entries": entries}))


def _amount(order_id: int, text: str | None) -> Money | None:
    """The request's amount in the order's currency."""
    if text is None:
        return None
    order = get_order(current_shop().reader(), order_id, user_id=None)
    try:
        amount = Money.parse(text, order.currency)
    except ValueError as error:
        raise ValidationError({"amount": [str(error)]}) from None
    if not amount.is_positive:
        raise ValidationError({"amount": ["Enter an amount above zero."]})
    return amount


def _entry_response(entry: PaymentEvent) -> Response:
    response = jsonify(_ENTRY.dump(entry))
    response.status_code = 201 if entry.result is Result.SUCCEEDED else 202
    return response


def _order_response(order: Order, caller: User, status: int) -> Response:
    schema = _FOR_STAFF if caller.is_staff else _FOR_CUSTOMER
    response = jsonify(schema.dump(order))
    response.status_code = status
    return response
