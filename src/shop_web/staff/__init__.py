"""The back-office: server-rendered pages for the shop's staff under `/staff/`.

Every page calls the shop's use cases (`shop_web.services`, `shop_core.use_cases`) and
renders a template; nothing here touches a table. See README.md beside this file."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Response, render_template, request
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import HTTPException

from shop_core.errors import ShopError
from shop_core.money import Money
from shop_web.config import Settings
from shop_web.errors import handle_unexpected, retry_after, status_for
from shop_web.staff import session
from shop_web.staff.blueprint import blueprint


def init_app(app: Flask, settings: Settings) -> None:
    from shop_web.staff import (  # noqa: F401  # their pages register on the blueprint
        customers,
        dashboard,
        money,
        orders,
        products,
        signing_in,
    )

    session.configure(app, settings)
    app.register_blueprint(blueprint)


@blueprint.app_template_filter("money")
def _money(value: Money) -> str:
    return f"{value.format()} {value.currency}"


@blueprint.app_template_filter("minor")
def _minor(value: int, currency: str, *, bare: bool = False) -> str:
    """An amount in minor units of `currency`, as the money filter shows it (`bare`: the
    figure alone, as a form field takes it)."""
    amount = Money(value, currency)
    return amount.format() if bare else _money(amount)


@blueprint.app_template_filter("when")
def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "—"


@blueprint.app_template_filter("duration")
def _duration(value: timedelta) -> str:
    minutes = max(0, int(value.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


@blueprint.after_request
def _not_cached(response: Response) -> Response:
    # Pages show customers' details and orders: no shared cache or back button keeps them.
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.context_processor
def _page_globals() -> dict[str, Any]:
    return {"csrf_token": session.csrf_token, "csrf_field": session.CSRF_FIELD}


def error_page(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    response = Response(render_template("staff/error.html", status=status, detail=detail),
                        status=status, mimetype="text/html")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@blueprint.errorhandler(ShopError)
def _shop_error(error: ShopError) -> Response:
    status = status_for(error)
    if status >= 500 and status != 503:
        return handle_unexpected(error)
    return error_page(status, error.detail)


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        return handle_unexpected(error)
    if isinstance(error, RateLimitExceeded):
        wait = retry_after(error)
        return error_page(429, f"Too many attempts. Try again in {wait} seconds.",
                          {"Retry-After": str(wait)})
    detail = error.description if status == 400 else (error.name or "Error")
    if status == 404:
        detail = f"There is nothing at {request.path}."
    return error_page(status, str(detail))
