"""Who is signed in to the back-office, and the CSRF token every form carries.

The cookie is Flask's signed session and holds two things: the id of the staff member's
sign-in session (stored server-side with the API's refresh tokens, so that it expires and
signing out ends it at once) and the CSRF token of the forms rendered for that browser."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import cast
from urllib.parse import urlsplit

from flask import Flask, Request, abort, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.wrappers import Response

from shop_core.accounts import User
from shop_web.bootstrap import current_shop
from shop_web.config import Settings
from shop_web.staff.blueprint import blueprint

SESSION_ID = "sid"
CSRF_TOKEN = "csrf"
CSRF_FIELD = "csrf_token"
COOKIE = "shop_staff"
COOKIE_PATH = "/staff/"
# Pages anyone may open: signing in, and the stylesheet.
PUBLIC_ENDPOINTS = frozenset({"staff.sign_in", "staff.static"})


class StaffOnlySessions(SecureCookieSessionInterface):
    """Flask's signed cookie session, opened for the back-office's pages only: the API's
    requests (the catalogue's among them) carry no session and pay nothing to read one."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not request.path.startswith(COOKIE_PATH):
            return self.null_session_class()
        return super().open_session(app, request)


def configure(app: Flask, settings: Settings) -> None:
    app.session_interface = StaffOnlySessions()
    app.config.update(
        # A key of its own for the cookie, derived from the shop's secret: a leaked session
        # cookie key must not forge tokens, nor the other way round.
        SECRET_KEY=hmac.new(settings.jwt_secret_key.encode(), b"shop staff session",
                            hashlib.sha256).hexdigest(),
        SESSION_COOKIE_NAME=COOKIE,
        SESSION_COOKIE_PATH=COOKIE_PATH,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=settings.shop_env != "development",
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=settings.staff_session_lifetime,
    )


def staff_member() -> User:
    """The signed-in staff member of this request (the guard below made sure of one)."""
    return cast(User, g.staff_member)


def staff_id() -> int:
    member = staff_member()
    assert member.id is not None
    return member.id


def start(session_id: str) -> None:
    """A fresh cookie for a new sign-in: nothing of the anonymous one is kept (no session
    fixation), and the forms get a new CSRF token."""
    session.clear()
    session.permanent = True
    session[SESSION_ID] = session_id
    session[CSRF_TOKEN] = secrets.token_urlsafe(32)


def end() -> None:
    session_id = session.get(SESSION_ID)
    if isinstance(session_id, str):
        current_shop().accounts.sign_out(session_id)
    session.clear()


def csrf_token() -> str:
    """This browser's CSRF token, made on first use (the sign-in form needs one too)."""
    token = session.get(CSRF_TOKEN)
    if not isinstance(token, str):
        token = session[CSRF_TOKEN] = secrets.token_urlsafe(32)
    return token


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a back-office page of this shop, never another site."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/staff/") \
            or "\\" in (target or ""):
        return url_for("staff.dashboard")
    return parts.path + (f"?{parts.query}" if parts.query else "")


@blueprint.before_request
def _guard() -> Response | None:
    if request.endpoint not in PUBLIC_ENDPOINTS:
        session_id = session.get(SESSION_ID)
        member = (current_shop().accounts.staff_member(session_id)
                  if isinstance(session_id, str) else None)
        if member is None:
            session.pop(SESSION_ID, None)
            return redirect(url_for("staff.sign_in", next=request.full_path))
        g.staff_member = member
    if request.method == "POST":
        _check_csrf()
    return None


def _check_csrf() -> None:
    expected = session.get(CSRF_TOKEN)
    given = request.form.get(CSRF_FIELD, "")
    if not isinstance(expected, str) or not hmac.compare_digest(expected, given):
        abort(400, "This form has expired or did not come from the back-office. "
                   "Reload the page and try again.")
