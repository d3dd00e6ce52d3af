"""Security headers on every response, and CORS for browser storefronts when asked for."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_cors import CORS

from shop_web.config import Settings

# The shop's own pages (payment return, sandbox checkout) are plain HTML with an inline
# style and, at most, a form posting to themselves: nothing else may load or run.
PAGE_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
               "frame-ancestors 'none'; base-uri 'none'")
# The API docs page runs Swagger UI, served by the shop, from an inline start-up script.
DOCS_POLICY = ("default-src 'none'; script-src 'self' 'unsafe-inline'; "
               "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
               "frame-ancestors 'none'; base-uri 'none'")
DOCS_ENDPOINT = "api-docs.openapi_swagger_ui"
# The back-office: its own stylesheet, inline SVG charts, forms posting to itself; no script.
STAFF_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                "frame-ancestors 'none'; base-uri 'none'")
HSTS = "max-age=31536000; includeSubDomains"
# What a storefront on another origin may send and read: tokens travel in Authorization,
# never in cookies, so credentials are never allowed.
CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"]
CORS_RESPONSE_HEADERS = ["X-Request-ID", "Retry-After"]
CORS_MAX_AGE_SECONDS = 600


def init_app(app: Flask, settings: Settings) -> None:
    hsts = settings.is_production

    @app.after_request
    def _secure(response: Response) -> Response:
        headers = response.headers
        headers["X-Content-Type-Options"] = "nosniff"
        if response.mimetype == "text/html":
            headers["Content-Security-Policy"] = _policy()
            # The payment return page's address carries Paymob's transaction fields.
            headers["Referrer-Policy"] = "no-referrer"
        if hsts:
            headers["Strict-Transport-Security"] = HSTS
        return response

    if settings.cors_origins:
        CORS(app, resources={r"/api/*": {"origins": list(settings.cors_origins)}},
             supports_credentials=False, allow_headers=CORS_REQUEST_HEADERS,
             expose_headers=CORS_RESPONSE_HEADERS, max_age=CORS_MAX_AGE_SECONDS,
             vary_header=True)


def _policy() -> str:
    if request.endpoint == DOCS_ENDPOINT:
        return DOCS_POLICY
    return STAFF_POLICY if request.blueprint == "staff" else PAGE_POLICY
