"""Products: the list, a product's page with its stock audit trail, creating, editing,
deleting and restoring, and adjusting stock with a reason."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from shop_core.catalogue import ProductQuery, StaleEdit
from shop_core.errors import ValidationError
from shop_core.use_cases.back_office import LOW_STOCK_BELOW, product_file
from shop_core.use_cases.catalogue import ProductChanges, ProductDetails, list_products
from shop_web.bootstrap import current_shop
from shop_web.staff import forms
from shop_web.staff.blueprint import ID, blueprint
from shop_web.staff.session import staff_id

Page = str | tuple[str, int]
STOCK_FILTERS: dict[str, dict[str, Any]] = {
    "": {},
    "in": {"in_stock": True},
    "low": {"in_stock": True, "stock_below": LOW_STOCK_BELOW},
    "out": {"stock_below": 1},
}
MAX_KEY_LENGTH = 64


def new_request_key() -> str:
    """A fresh key for a form that changes something: its second submission is known."""
    return uuid.uuid4().hex


def request_key() -> str:
    key = forms.text(request.form, "request_key")
    if not key or len(key) > MAX_KEY_LENGTH:
        raise BadRequest("This form is incomplete. Reload the page and try again.")
    return key


@blueprint.route("/products/")
def products() -> str:
    args = request.args
    stock = args.get("stock", "")
    query = ProductQuery(search=forms.optional_text(args, "search"),
                         include_deleted=args.get("deleted") == "1",
                         page=forms.page(args), **STOCK_FILTERS.get(stock, {}))
    found = list_products(current_shop().reader(), query)
    return render_template("staff/products.html", section="staff.products", page=found,
                           args={k: v for k, v in args.items() if k != "page"},
                           low_stock_below=LOW_STOCK_BELOW)


@blueprint.route("/products/new", methods=["GET", "POST"])
def new_product() -> Response | Page:
    if request.method == "GET":
        return _product_form({}, {})
    shop = current_shop()
    form = request.form
    try:
        details = ProductDetails(name=forms.text(form, "name"),
                                 description=forms.text(form, "description"),
                                 price=forms.money(form, "price", shop.settings.paymob_currency),
                                 stock=forms.integer(form, "stock"))
        product = shop.catalogue.create(details, by=staff_id(), request_key=request_key())
    except ValidationError as invalid:
        return _product_form(form, forms.errors_of(invalid)), 400
    flash(f"Product “{product.name}” is in the catalogue.", "success")
    return redirect(url_for("staff.product", product_id=product.id), 303)


@blueprint.route(f"/products/<{ID}:product_id>")
def product(product_id: int) -> Page:
    return _product_page(product_id, {}, {})


@blueprint.route(f"/products/<{ID}:product_id>/edit", methods=["POST"])
def edit_product(product_id: int) -> Response | Page:
    shop = current_shop()
    form = request.form
    try:
        changes = ProductChanges(name=forms.text(form, "name"),
                                 description=forms.text(form, "description"),
                                 price=forms.money(form, "price", shop.settings.paymob_currency))
        shop.catalogue.update(product_id, changes, by=staff_id(),
                              expected_version=forms.integer(form, "version"))
    except StaleEdit as stale:
        return _product_page(product_id, {}, {"edit": {"": [
            f"{stale.detail} The form now shows what is saved; make your change again."]}},
            status=409)
    except ValidationError as invalid:
        return _product_page(product_id, form, {"edit": forms.errors_of(invalid)}, status=400)
    flash("Changes saved.", "success")
    return redirect(url_for("staff.product", product_id=product_id), 303)


@blueprint.route(f"/products/<{ID}:product_id>/stock", methods=["POST"])
def adjust_stock(product_id: int) -> Response | Page:
    form = request.form
    direction = -1 if form.get("direction") == "remove" else 1
    try:
        adjusted = current_shop().catalogue.adjust_stock(
            product_id, direction * forms.integer(form, "quantity"),
            forms.text(form, "reason"), by=staff_id(), request_key=request_key())
    except ValidationError as invalid:
        return _product_page(product_id, form, {"stock": forms.errors_of(invalid)}, status=400)
    change = adjusted.change
    flash(("This adjustment was already recorded: " if adjusted.replayed else "Stock changed: ")
          + f"{change.before} → {change.after}.", "success")
    return redirect(url_for("staff.product", product_id=product_id), 303)


@blueprint.route(f"/products/<{ID}:product_id>/delete", methods=["POST"])
def delete_product(product_id: int) -> Response:
    current_shop().catalogue.delete(product_id)
    flash("The product is deleted: it can no longer be ordered. Restore it at any time.",
          "success")
    return redirect(url_for("staff.product", product_id=product_id), 303)


@blueprint.route(f"/products/<{ID}:product_id>/restore", methods=["POST"])
def restore_product(product_id: int) -> Response:
    current_shop().catalogue.restore(product_id)
    flash("The product is restored: it can be ordered again.", "success")
    return redirect(url_for("staff.product", product_id=product_id), 303)


def _product_form(values: Any, errors: dict[str, Any]) -> str:
    return render_template("staff/product_new.html", section="staff.products", values=values,
                           errors=errors, request_key=new_request_key(),
                           currency=current_shop().settings.paymob_currency)


def _product_page(product_id: int, values: Any, errors: dict[str, Any], *,
                  status: int = 200) -> Page:
    found = product_file(current_shop().reader(), product_id, forms.page(request.args))
    html = render_template("staff/product.html", section="staff.products", file=found,
                           product=found.product, values=values, errors=errors,
                           request_key=new_request_key())
    return (html, status) if status != 200 else html
