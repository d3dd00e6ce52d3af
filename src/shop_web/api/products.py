"""The catalogue: anyone browses, admins edit."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from shop_core.catalogue import Product, ProductOrdering, ProductQuery
from shop_core.errors import Rule, ValidationError, Violation
from shop_core.money import Money, TooManyDecimals
from shop_core.use_cases.catalogue import (
    ProductChanges,
    ProductDetails,
    get_product,
    list_products,
)
from shop_web.api.base import ShopBlueprint
from shop_web.api.caller import optional_user
from shop_web.api.pagination import page_body, page_request
from shop_web.bootstrap import current_shop
from shop_web.schemas.fields import MAX_ID
from shop_web.schemas.products import (
    ProductPageSchema,
    ProductPatchSchema,
    ProductQuerySchema,
    ProductSchema,
    ProductWriteSchema,
    dump_product,
)

blueprint = ShopBlueprint("products", __name__, url_prefix="/api/v1",
                          description="Products: anyone may browse; admins create and edit.")

ITEM = f"/products/<int(min=1, max={MAX_ID}):product_id>/"


@blueprint.route("/products/", methods=["GET"], operation_id="listProducts")
@blueprint.maybe_signed_in()
@blueprint.arguments(ProductQuerySchema, location="query")
@blueprint.response(200, ProductPageSchema)
@blueprint.errors(404)
def list_catalogue(args: dict[str, Any]) -> Response:
    """Active products, filtered and ordered; admins may include deleted ones."""
    caller = optional_user()
    query = ProductQuery(
        search=args.get("search") or None, in_stock=args["in_stock"],
        ordering=ProductOrdering(args["ordering"]),
        include_deleted=bool(args["include_deleted"] and caller and caller.is_staff),
        page=page_request(args),
    )
    body = page_body(list_products(current_shop().reader(), query))
    body["results"] = [dump_product(product) for product in body["results"]]
    return jsonify(body)


@blueprint.route("/products/", methods=["POST"], operation_id="createProduct")
@blueprint.signed_in(staff=True)
@blueprint.arguments(ProductWriteSchema)
@blueprint.response(201, ProductSchema)
def add_product(data: dict[str, Any]) -> Product:
    details = ProductDetails(name=data["name"], description=data["description"],
                             price=_price(data["price"]), stock=data["stock"])
    return current_shop().catalogue.create(details)


@blueprint.route(ITEM, methods=["GET"], operation_id="getProduct")
@blueprint.maybe_signed_in()
@blueprint.response(200, ProductSchema)
@blueprint.errors(404)
def read_product(product_id: int) -> Product:
    """One product; a deleted one is 404 except to admins."""
    caller = optional_user()
    return get_product(current_shop().reader(), product_id,
                       include_deleted=bool(caller and caller.is_staff))


@blueprint.route(ITEM, methods=["PUT"], operation_id="replaceProduct")
@blueprint.signed_in(staff=True)
@blueprint.arguments(ProductWriteSchema)
@blueprint.response(200, ProductSchema)
@blueprint.errors(404)
def replace_product(data: dict[str, Any], product_id: int) -> Product:
    return _update(product_id, data)


@blueprint.route(ITEM, methods=["PATCH"], operation_id="updateProduct")
@blueprint.signed_in(staff=True)
@blueprint.arguments(ProductPatchSchema)
@blueprint.response(200, ProductSchema)
@blueprint.errors(404)
def patch_product(data: dict[str, Any], product_id: int) -> Product:
    return _update(product_id, data)


@blueprint.route(ITEM, methods=["DELETE"], operation_id="deleteProduct")
@blueprint.signed_in(staff=True)
@blueprint.response(204)
@blueprint.errors(404)
def remove_product(product_id: int) -> Response:
    """Soft delete: the product can no longer be ordered; placed orders keep their lines."""
    current_shop().catalogue.delete(product_id)
    return Response(status=204)


def _update(product_id: int, data: dict[str, Any]) -> Product:
    price = data.get("price")
    changes = ProductChanges(name=data.get("name"), description=data.get("description"),
                             price=_price(price) if price is not None else None,
                             stock=data.get("stock"))
    return current_shop().catalogue.update(product_id, changes)


def _price(text: str) -> Money:
    try:
        return Money.parse(text, current_shop().settings.paymob_currency)
    except TooManyDecimals as finer:  # "1.005" in EGP; fine in OMR, which has three places
        raise ValidationError({"price": [Violation(Rule.TOO_MANY_DECIMALS, finer.places)]}
                              ) from None
    except ValueError:  # the schema checked the format; this is a belt for the braces
        raise ValidationError({"price": ["Enter a valid amount."]}) from None
