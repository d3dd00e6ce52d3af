"""Tokens: how they are issued, and what an invalid one is answered with (always 401)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask_jwt_extended import create_access_token, create_refresh_token

from shop_core.accounts import RefreshToken, User
from shop_core.errors import NotFound
from shop_core.use_cases.accounts import get_user
from shop_web.api.caller import user_id
from shop_web.bootstrap import current_shop
from shop_web.errors import error_response
from shop_web.extensions import jwt, limiter


def auth_rate_limit() -> str:
    return str(current_app.config["SHOP_RATE_LIMIT_AUTH"])


# Signing in with a password, through the API or the back-office's form: one count per
# client address for both, so that the two doors together allow one rate of guesses.
sign_in_rate_limit = limiter.shared_limit(auth_rate_limit, scope="sign-in", methods=["POST"])


def token_pair(user: User, refresh: RefreshToken) -> dict[str, str]:
    """An access token carrying the staff flag, and the refresh JWT for `refresh`, whose jti
    is the stored token's, so that presenting it can be checked and rotated."""
    shop = current_shop()
    identity = str(user_id(user))
    access = create_access_token(identity=identity, additional_claims={"is_staff": user.is_staff},
                                 expires_delta=shop.settings.access_token_lifetime)
    lifetime = refresh.expires_at - shop.clock.now()
    refresh_jwt = create_refresh_token(identity=identity, additional_claims={"jti": refresh.jti},
                                       expires_delta=lifetime)
    return {"access": access, "refresh": refresh_jwt}


def _unauthorized(detail: str) -> Response:
    return error_response({"detail": detail}, 401, {"WWW-Authenticate": 'Bearer realm="api"'})


@jwt.user_lookup_loader
def _load_user(_header: dict[str, Any], claims: dict[str, Any]) -> User | None:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.isdigit() or len(subject) > 18:
        return None
    try:
        return get_user(current_shop().reader(), int(subject))
    except NotFound:
        return None


@jwt.unauthorized_loader
def _missing(_reason: str) -> Response:
    return _unauthorized("Authentication credentials were not provided.")


@jwt.invalid_token_loader
def _invalid(_reason: str) -> Response:
    return _unauthorized("Given token not valid for any token type.")


@jwt.expired_token_loader
def _expired(_header: dict[str, Any], _claims: dict[str, Any]) -> Response:
    return _unauthorized("Token is invalid or expired.")


@jwt.user_lookup_error_loader
def _unknown_user(_header: dict[str, Any], _claims: dict[str, Any]) -> Response:
    return _unauthorized("User not found.")


@jwt.revoked_token_loader
def _revoked(_header: dict[str, Any], _claims: dict[str, Any]) -> Response:
    return _unauthorized("Token has been revoked.")


@jwt.token_verification_failed_loader
def _failed(_header: dict[str, Any], _claims: dict[str, Any]) -> Response:
    return _unauthorized("Given token not valid for any token type.")


@jwt.needs_fresh_token_loader
def _not_fresh(_header: dict[str, Any], _claims: dict[str, Any]) -> Response:
    return _unauthorized("Fresh token required.")
