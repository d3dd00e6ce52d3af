"""Signing in to the back-office and out of it."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from marshmallow import ValidationError as SchemaError
from werkzeug.wrappers import Response

from shop_core.errors import AuthenticationFailed, PermissionDenied
from shop_web.api.security import sign_in_rate_limit
from shop_web.bootstrap import current_shop
from shop_web.schemas.accounts import TokenRequestSchema
from shop_web.staff import forms, session
from shop_web.staff.blueprint import blueprint


@blueprint.route("/sign-in", methods=["GET", "POST"])
@sign_in_rate_limit
def sign_in() -> Response | str | tuple[str, int]:
    next_page = session.safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("staff/sign_in.html", next_page=next_page, error=None)
    username = forms.text(request.form, "username")
    try:  # the API's own rules for what a sign-in may send
        credentials = TokenRequestSchema().load(
            {"username": username, "password": request.form.get("password", "")})
    except SchemaError:
        return render_template("staff/sign_in.html", next_page=next_page, username=username,
                               error="Enter your username and password."), 400
    shop = current_shop()
    try:
        _, started = shop.accounts.staff_sign_in(
            credentials["username"], credentials["password"],
            shop.settings.staff_session_lifetime)
    except (AuthenticationFailed, PermissionDenied) as refused:
        status = 403 if isinstance(refused, PermissionDenied) else 401
        return render_template("staff/sign_in.html", next_page=next_page, username=username,
                               error=refused.detail), status
    session.start(started.jti)
    return redirect(next_page)


@blueprint.route("/sign-out", methods=["POST"])
def sign_out() -> Response:
    session.end()
    return redirect(url_for("staff.sign_in"))
