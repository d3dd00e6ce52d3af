"""The one table from domain errors to HTTP statuses, and the handlers that make every error
JSON in the contract's shape: `{"detail": "..."}` or field errors `{"field": ["message"]}`."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, request
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from shop_core.catalogue import OutOfStock
from shop_core.errors import (
    AlreadyExists,
    AuthenticationFailed,
    Conflict,
    IdempotencyMismatch,
    InvalidSignature,
    NotFound,
    PaymentProviderError,
    PermissionDenied,
    ShopError,
    TargetRefused,
    Unavailable,
    ValidationError,
)
from shop_web.messages import field_messages

log = logging.getLogger(__name__)

# Subclasses not listed take their nearest listed ancestor's status (OutOfStock and
# IllegalTransition are Conflicts: 409).
STATUS_FOR_ERROR: dict[type[ShopError], int] = {
    ValidationError: 400,
    AuthenticationFailed: 401,
    InvalidSignature: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    AlreadyExists: 409,
    IdempotencyMismatch: 422,
    TargetRefused: 400,
    PaymentProviderError: 502,
    Unavailable: 503,
}

_DETAIL_FOR_STATUS = {
    404: "Not found.",
    413: "Request body too large: the limit is 1 MiB.",
    500: "Internal server error.",
}
_NOT_AN_OBJECT = "Invalid input type."
# What a 503 tells the client to wait: a dropped database connection is replaced at once,
# and a restarting server is back within seconds.
RETRY_UNAVAILABLE_AFTER_SECONDS = 5


def status_for(error: ShopError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_FOR_ERROR:
            return STATUS_FOR_ERROR[cls]
    return 500


def body_for(error: ShopError) -> dict[str, Any]:
    if isinstance(error, ValidationError):
        return _without_schema_keys(field_messages(error.field_errors)) or {
            "detail": error.detail}
    if isinstance(error, OutOfStock):
        return {"detail": error.detail, "unavailable": [
            {"product_id": s.product_id, "requested": s.requested, "available": s.available}
            for s in error.unavailable
        ]}
    return {"detail": error.detail}


def error_response(body: Mapping[str, Any], status: int,
                   headers: Mapping[str, str] | None = None) -> Response:
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_shop_error(error: ShopError) -> Response:
    status = status_for(error)
    if status == 500:
        return handle_unexpected(error)
    if isinstance(error, Unavailable):
        # The adapter that lost its dependency has logged the outage, once.
        return error_response(body_for(error), status,
                              {"Retry-After": str(RETRY_UNAVAILABLE_AFTER_SECONDS)})
    if status >= 500:
        log.warning("%s %s answered %d: %s", request.method, request.path, status, error.detail)
    return error_response(body_for(error), status)


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        return handle_unexpected(error)
    headers: dict[str, str] = {}
    messages = (getattr(error, "data", None) or {}).get("messages")
    if isinstance(messages, Mapping):  # webargs: validation errors by location
        body = _request_errors(messages)
        headers.update((getattr(error, "data", None) or {}).get("headers") or {})
    elif isinstance(error, MethodNotAllowed):
        body = {"detail": f'Method "{request.method}" not allowed.'}
        if error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
    elif isinstance(error, RateLimitExceeded):
        wait = retry_after(error)
        body = {"detail": f"Request was throttled. Expected available in {wait} seconds."}
        headers["Retry-After"] = str(wait)
    else:
        body = {"detail": _DETAIL_FOR_STATUS.get(status) or error.description or error.name}
    return error_response(body, status, headers)


def handle_unexpected(error: BaseException) -> Response:
    """A bug: the traceback goes to the log, never to the client."""
    original = getattr(error, "original_exception", None) or error
    log.error("Unhandled error in %s %s", request.method, request.path,
              exc_info=(type(original), original, original.__traceback__))
    return error_response({"detail": _DETAIL_FOR_STATUS[500]}, 500)


def init_app(app: Flask) -> None:
    app.register_error_handler(ShopError, handle_shop_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)


def _request_errors(messages: Mapping[str, Any]) -> dict[str, Any]:
    """webargs reports `{"json": {...}, "query": {...}}`; the contract wants one flat map of
    field errors, or a `detail` when the request as a whole could not be read."""
    merged: dict[str, Any] = {}
    general: list[str] = []
    for errors in messages.values():
        if isinstance(errors, Mapping):
            for key, value in errors.items():
                if key == "_schema":
                    general.extend(_strings(value))
                else:
                    merged[str(key)] = _without_schema_keys(value)
        else:
            general.extend(_strings(errors))
    if general and not merged:
        text = " ".join(general)
        if text == _NOT_AN_OBJECT:
            text = "Invalid input: the request body must be a JSON object."
        return {"detail": text}
    if general:
        merged["non_field_errors"] = general
    return merged


def _without_schema_keys(value: Any) -> Any:
    """marshmallow's `_schema` (errors about a whole nested object) as DRF names it."""
    if isinstance(value, Mapping):
        return {("non_field_errors" if key == "_schema" else str(key)): _without_schema_keys(v)
                for key, v in value.items()}
    return value


def _strings(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [str(value)]


def retry_after(error: RateLimitExceeded) -> int:
    """Seconds until the limit `error` hit lets requests through again."""
    try:
        from shop_web.extensions import limiter

        current = limiter.current_limit
        if current is not None:
            return max(1, math.ceil(current.reset_at - time.time()))
    except Exception:  # the storage may be unreachable; the window length is a fair answer
        log.debug("Could not read the rate-limit window", exc_info=True)
    return max(1, int(error.limit.limit.get_expiry()))
