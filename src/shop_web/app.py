"""The Flask application factory: `gunicorn 'shop_web.app:create_app()'`."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask
from limits import parse as parse_rate_limit
from werkzeug.middleware.proxy_fix import ProxyFix

from shop_web import errors, headers, metrics, request_log, scrape
from shop_web.config import ConfigurationError, Settings
from shop_web.json import OrjsonProvider

if TYPE_CHECKING:
    from shop_web.bootstrap import Shop

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


def create_app(config: Settings | Mapping[str, str] | None = None, *,
               shop: Shop | None = None) -> Flask:
    """Build the API.

    `config` is None (read `os.environ`), a `Settings`, or a mapping of environment variables
    read instead of `os.environ` (never merged with it, so tests are hermetic). `shop` replaces
    the wired shop (tests pass one with a fake clock or gateway); without `config`, its
    settings are the app's.
    """
    settings = _settings(config, shop)
    if shop is None:
        from shop_web.bootstrap import build_shop

        shop = build_shop(settings)

    instance_path = Path(settings.instance_path).resolve()
    if not settings.database_url:  # the default SQLite file lives in the instance folder
        instance_path.mkdir(parents=True, exist_ok=True)
    app = Flask("shop_web", instance_path=str(instance_path))
    app.config.update(_flask_config(settings))
    app.json = OrjsonProvider(app)  # keys in the documented order, encoded in C
    from shop_web.bootstrap import bind

    bind(app, shop)
    if settings.trusted_proxies:
        # Behind N reverse proxies, the client's address (which rate limits count by) is the
        # one the nearest proxy put in X-Forwarded-For; without this, every client shares one.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)

    _init_extensions(app, settings)
    errors.init_app(app)
    if settings.shop_env != "test":
        request_log.configure_logging(settings.log_format)
    request_log.init_app(app)
    metrics.init_app(app)
    app.register_blueprint(scrape.blueprint)
    headers.init_app(app, settings)
    _register_blueprints(app, settings)
    from shop_web import staff

    staff.init_app(app, settings)

    if not settings.redis_url and settings.shop_env != "test":
        # No job queue: overdue orders are expired by a sweep inside this process.
        shop.start_duties()
    return app


def _settings(config: Settings | Mapping[str, str] | None, shop: Shop | None) -> Settings:
    if isinstance(config, Settings):
        return config
    if config is not None:
        return Settings.from_env(config)
    if shop is not None:
        return shop.settings
    return Settings.from_env(os.environ)


def _flask_config(settings: Settings) -> dict[str, object]:
    try:
        parse_rate_limit(settings.rate_limit_auth)
    except ValueError:
        raise ConfigurationError(
            f"RATE_LIMIT_AUTH is not a rate limit such as '30/minute': "
            f"{settings.rate_limit_auth!r}") from None
    from shop_web.api.docs import ASSETS_URL

    return {
        "TESTING": settings.shop_env == "test",
        "MAX_CONTENT_LENGTH": MAX_BODY_BYTES,
        # Tokens: HS256 only, in the Authorization header only.
        "JWT_SECRET_KEY": settings.jwt_secret_key,
        "JWT_ALGORITHM": "HS256",
        "JWT_DECODE_ALGORITHMS": ["HS256"],
        "JWT_TOKEN_LOCATION": ["headers"],
        "JWT_ACCESS_TOKEN_EXPIRES": settings.access_token_lifetime,
        "JWT_REFRESH_TOKEN_EXPIRES": settings.refresh_token_lifetime,
        "JWT_ERROR_MESSAGE_KEY": "detail",
        "JWT_COOKIE_CSRF_PROTECT": False,  # tokens travel in headers only: no CSRF claim
        # Rate limits: shared through Redis when there is one, else per process.
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": settings.redis_url or "memory://",
        # If Redis goes away, count in this process instead of failing sign-ins with a 500.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        "RATELIMIT_HEADERS_ENABLED": False,
        "SHOP_RATE_LIMIT_AUTH": settings.rate_limit_auth,
        # OpenAPI document and its docs page, with assets served locally.
        "API_TITLE": "shop",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": ASSETS_URL,
        "API_SPEC_OPTIONS": {
            "info": {"description": (
                "An online shop that takes payments through Paymob Accept. Money is a "
                "decimal string with its currency's places (\"199.99\"; \"12.500\" in OMR); "
                "times are ISO 8601 with an explicit UTC offset; lists are paginated with "
                "`page` and `page_size`.")},
            "servers": [{"url": settings.public_base_url.rstrip("/")}],
        },
    }


def _init_extensions(app: Flask, settings: Settings) -> None:
    from shop_web.api import security  # noqa: F401  # registers the JWT callbacks
    from shop_web.extensions import api, jwt, limiter

    jwt.init_app(app)
    limiter.init_app(app)
    # The shop's only limits are on endpoints (`@limiter.limit`, sign-in and registration),
    # whose wrappers check them. The extension's app-wide check is for default and blueprint
    # limits, of which there are none, and it cost every other request about 7% of a
    # catalogue page's CPU.
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})


def _register_blueprints(app: Flask, settings: Settings) -> None:
    from shop_web import payments
    from shop_web.api import auth, docs, health, orders, products, profile, webhooks
    from shop_web.extensions import api

    for module in (auth, profile, products, orders, webhooks, health):
        api.register_blueprint(module.blueprint)
    app.register_blueprint(docs.blueprint)
    api.register_blueprint(payments.blueprint)
    app.register_blueprint(payments.pages)
    if settings.paymob_mode == "sandbox":
        from shop_web import sandbox  # its checkout pages exist only in sandbox mode

        app.register_blueprint(sandbox.blueprint)
