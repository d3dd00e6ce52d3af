"""Orders: customers place and read their own; staff read everyone's."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from shop_core.accounts import User
from shop_core.orders import CartLine, Order, OrderQuery, OrderStatus
from shop_core.use_cases.cancelling import CancelOrder
from shop_core.use_cases.ordering import PlaceOrder, get_order, list_orders
from shop_web.api.base import ShopBlueprint
from shop_web.api.caller import require_user, user_id
from shop_web.api.pagination import page_body, page_request
from shop_web.bootstrap import current_shop
from shop_web.schemas.fields import MAX_ID
from shop_web.schemas.orders import (
    IdempotencyHeaderSchema,
    OrderPageSchema,
    OrderQuerySchema,
    OrderSchema,
    OutOfStockSchema,
    PlaceOrderSchema,
)

blueprint = ShopBlueprint("orders", __name__, url_prefix="/api/v1",
                          description="Orders and their payment.")

_FOR_STAFF = OrderSchema()
_FOR_CUSTOMER = OrderSchema(exclude=("user_id",))
_FOR_STAFF_MANY = OrderSchema(many=True)
_FOR_CUSTOMER_MANY = OrderSchema(many=True, exclude=("user_id",))


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
        idempotency_key=headers.get("idempotency_key"),
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
def cancel_order(headers: dict[str, Any], order_id: int) -> Response:
    """Cancel one of the caller's pending orders (staff: anyone's): it becomes `cancelled`
    and its stock returns at once. Anyone else's order is 404; an order no longer pending
    is 409. A payment Paymob still takes follows the late-payment rule."""
    caller = require_user()
    order = current_shop().orders.cancel(CancelOrder(
        order_id=order_id, user_id=user_id(caller), is_staff=caller.is_staff,
        idempotency_key=headers.get("idempotency_key")))
    return _order_response(order, caller, 200)


def _order_response(order: Order, caller: User, status: int) -> Response:
    schema = _FOR_STAFF if caller.is_staff else _FOR_CUSTOMER
    response = jsonify(schema.dump(order))
    response.status_code = status
    return response
