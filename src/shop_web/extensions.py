"""Flask extensions, created here once and bound to each app by `create_app` (`init_app`).
Their callbacks live with the code they serve (`shop_web.api.security`)."""

from __future__ import annotations

from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from shop_web.api.base import ShopApi

api = ShopApi()
jwt = JWTManager()
# No default limits: only the sign-in and registration endpoints are limited, per address.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
