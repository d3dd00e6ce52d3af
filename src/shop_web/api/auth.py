"""Registering and signing in: `register/`, `token/`, `token/refresh/`."""

from __future__ import annotations

from typing import Any

from flask_jwt_extended import decode_token

from shop_core.accounts import User
from shop_core.errors import AuthenticationFailed
from shop_core.use_cases.accounts import Registration
from shop_web.api.base import ShopBlueprint
from shop_web.api.security import auth_rate_limit, token_pair
from shop_web.bootstrap import current_shop
from shop_web.extensions import limiter
from shop_web.schemas.accounts import (
    ProfileSchema,
    RefreshRequestSchema,
    RegisterSchema,
    TokenPairSchema,
    TokenRequestSchema,
)

blueprint = ShopBlueprint("accounts", __name__, url_prefix="/api/v1",
                          description="Registering and signing in.")


@blueprint.route("/register/", methods=["POST"], operation_id="register")
@limiter.limit(auth_rate_limit)
@blueprint.arguments(RegisterSchema)
@blueprint.response(201, ProfileSchema)
@blueprint.errors(429)
def register_user(data: dict[str, Any]) -> User:
    """Create an account (never a staff one)."""
    return current_shop().accounts.register(Registration(
        username=data["username"], email=data["email"], password=data["password"],
        first_name=data["first_name"], last_name=data["last_name"],
        phone_number=data.get("phone_number"),
    ))


@blueprint.route("/token/", methods=["POST"], operation_id="obtainToken")
@limiter.limit(auth_rate_limit)
@blueprint.arguments(TokenRequestSchema)
@blueprint.response(200, TokenPairSchema)
@blueprint.errors(401, 429)
def obtain_token(data: dict[str, Any]) -> dict[str, str]:
    """Sign in: a short-lived access token and a rotating refresh token."""
    user, session = current_shop().accounts.sign_in(data["username"], data["password"])
    return token_pair(user, session)


@blueprint.route("/token/refresh/", methods=["POST"], operation_id="refreshToken")
@limiter.limit(auth_rate_limit)
@blueprint.arguments(RefreshRequestSchema)
@blueprint.response(200, TokenPairSchema)
@blueprint.errors(401, 429)
def refresh_token(data: dict[str, Any]) -> dict[str, str]:
    """Exchange a refresh token for a new pair. Each refresh token works once: presenting a
    used one again revokes every token of its sign-in session."""
    claims = decode_token(data["refresh"])  # invalid or expired: 401 via the JWT handlers
    if claims.get("type") != "refresh" or not isinstance(claims.get("jti"), str):
        raise AuthenticationFailed("Token has wrong type.")
    user, successor = current_shop().accounts.refresh(claims["jti"])
    return token_pair(user, successor)
