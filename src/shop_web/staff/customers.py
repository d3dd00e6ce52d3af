"""Customers: the list, and a customer's page with their orders."""

from __future__ import annotations

from flask import render_template, request

from shop_core.accounts import UserQuery
from shop_core.use_cases.accounts import list_users
from shop_core.use_cases.back_office import customer_file
from shop_web.bootstrap import current_shop
from shop_web.staff import forms
from shop_web.staff.blueprint import ID, blueprint


@blueprint.route("/customers/")
def customers() -> str:
    args = request.args
    found = list_users(current_shop().reader(), UserQuery(
        search=forms.optional_text(args, "search"), page=forms.page(args)))
    return render_template("staff/customers.html", section="staff.customers", page=found,
                           args={k: v for k, v in args.items() if k != "page"})


@blueprint.route(f"/customers/<{ID}:user_id>")
def customer(user_id: int) -> str:
    found = customer_file(current_shop().reader(), user_id, forms.page(request.args))
    return render_template("staff/customer.html", section="staff.customers", file=found)
