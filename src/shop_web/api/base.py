"""The typed flask-smorest facade every resource blueprint is made with: its decorators, the
request parser, and the documented error bodies."""

from __future__ import annotations

import functools
import http
import json
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

import flask
import flask_smorest
from flask_smorest.utils import prepare_response
from marshmallow import Schema
from webargs.flaskparser import FlaskParser

from shop_core.errors import PermissionDenied
from shop_web.api.caller import require_user, verify_caller
from shop_web.schemas.common import FIELD_ERRORS_SCHEMA, DetailSchema

F = TypeVar("F", bound=Callable[..., Any])


class Decorator(Protocol):
    """A decorator that keeps the decorated function's type."""

    def __call__(self, func: F, /) -> F: ...


BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]


class ShopParser(FlaskParser):
    """webargs' Flask parser, answering 400 (the contract's status for bad input) and treating
    JSON too deep for the decoder like any other malformed JSON."""

    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req: flask.Request) -> Any:
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            error = json.JSONDecodeError("JSON nested too deeply", "", 0)
            self._handle_invalid_json_error(error, req)


class ShopBlueprint(flask_smorest.Blueprint):  # type: ignore[misc]  # smorest is untyped
    """flask-smorest's Blueprint with typed decorators and the shop's parser."""

    ARGUMENTS_PARSER = ShopParser()

    def route(self, rule: str, *, operation_id: str, **options: Any) -> Decorator:
        """A route of one operation, with the stable `operationId` generated clients name
        their functions after (`listProducts`, `placeOrder`)."""
        def decorator(func: F) -> F:
            return cast(Decorator, super(ShopBlueprint, self).route(rule, **options))(
                self.doc(operationId=operation_id)(func))
        return decorator

    def arguments(self, schema: Any, **kwargs: Any) -> Decorator:
        # One instance per endpoint: given a class, webargs would build a schema per request.
        if isinstance(schema, type) and issubclass(schema, Schema):
            schema = schema()
        return cast(Decorator, super().arguments(schema, **kwargs))

    def response(self, status_code: int, schema: Any = None, **kwargs: Any) -> Decorator:
        return cast(Decorator, super().response(status_code, schema, **kwargs))

    def alt_response(self, status_code: int, response: Any = None,
                     **kwargs: Any) -> Decorator:
        return cast(Decorator, super().alt_response(status_code, response, **kwargs))

    def doc(self, **kwargs: Any) -> Decorator:
        return cast(Decorator, super().doc(**kwargs))

    def errors(self, *statuses: int) -> Decorator:
        """Document `{"detail": ...}` error responses for `statuses`."""
        def decorator(func: F) -> F:
            for status in statuses:
                func = self.alt_response(status, http.HTTPStatus(status).name)(func)
            return func
        return decorator

    def signed_in(self, *, staff: bool = False) -> Decorator:
        """Require a valid access token (and the staff flag), before the body is even read."""
        def decorator(func: F) -> F:
            @functools.wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                user = require_user()
                if staff and not user.is_staff:
                    raise PermissionDenied("You do not have permission to perform this action.")
                return func(*args, **kwargs)

            documented = self.doc(security=BEARER)(cast(F, wrapper))
            return self.errors(401, 403)(documented) if staff else self.errors(401)(documented)
        return decorator

    def maybe_signed_in(self) -> Decorator:
        """Anyone may call; a token, when sent, must be valid and tells who is calling."""
        def decorator(func: F) -> F:
            @functools.wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                verify_caller(optional=True)
                return func(*args, **kwargs)

            # Documented as public (no security): generators such as openapi-python-client
            # demand a signed-in client for any operation listing a scheme, even beside the
            # anonymous `{}`. The 401 below says that a bad token is still refused.
            documented = self.doc(security=[])(cast(F, wrapper))
            return self.errors(401)(documented)
        return decorator


class ShopApi(flask_smorest.Api):  # type: ignore[misc]  # smorest is untyped
    """flask-smorest's Api documenting the contract's error bodies, whose handlers live in
    `shop_web.errors` rather than here."""

    ERROR_SCHEMA = DetailSchema

    def _register_error_handlers(self) -> None:
        """`shop_web.errors.init_app` installs the contract's handlers instead."""

    def _register_responses(self) -> None:
        self.spec.components.schema("FieldErrors", FIELD_ERRORS_SCHEMA)
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status == http.HTTPStatus.BAD_REQUEST:
                response["schema"] = {"$ref": "#/components/schemas/FieldErrors"}
            elif status == http.HTTPStatus.TOO_MANY_REQUESTS:
                response["schema"] = self.ERROR_SCHEMA
                response["headers"] = {"Retry-After": {
                    "description": "Seconds to wait before trying again.",
                    "schema": {"type": "integer"}}}
            elif not 100 <= status < 200 and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Any other error", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)
