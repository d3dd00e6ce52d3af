"""Who is calling: the signed-in user, verified once per request."""

from __future__ import annotations

from typing import cast

import flask
from flask_jwt_extended import get_current_user, verify_jwt_in_request

from shop_core.accounts import User


def require_user() -> User:
    """The signed-in user; 401 (raised by flask-jwt-extended) when the token is missing,
    invalid, of the wrong type, or names a user who no longer exists. The token is verified
    and the user loaded once per request: `signed_in` does it, later calls reuse it."""
    user = verify_caller(optional=False)
    assert user is not None  # verify_jwt_in_request raised otherwise
    return user


def optional_user() -> User | None:
    """The caller, when `maybe_signed_in` found a token."""
    return cast("User | None", flask.g.get(_CALLER))


_CALLER = "shop_caller"


def verify_caller(*, optional: bool) -> User | None:
    """Verify the request's token, and so run the user loader, once per request: `signed_in`
    does it and the view's `require_user` reuses the user."""
    if _CALLER in flask.g and (optional or flask.g.get(_CALLER) is not None):
        return cast("User | None", flask.g.get(_CALLER))
    if optional and flask.current_app.config["JWT_HEADER_NAME"] not in flask.request.headers:
        user = None  # flask-jwt-extended's answer too, reached by raising and catching
    else:
        verify_jwt_in_request(optional=optional)
        user = cast("User | None", get_current_user())
    flask.g.shop_caller = user
    return user


def user_id(user: User) -> int:
    assert user.id is not None
    return user.id
