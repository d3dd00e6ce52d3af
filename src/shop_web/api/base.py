"""What every resource blueprint shares: the typed smorest facade, the request parser, who is
calling, and DRF-style pages."""

from __future__ import annotations

import functools
import http
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeVar, cast
from urllib.parse import urlencode

import flask
import flask_smorest
from flask_jwt_extended import get_current_user, verify_jwt_in_request
from flask_smorest.utils import prepare_response
from marshmallow import Schema
from webargs.flaskparser import FlaskParser

from shop_core.accounts import User
from shop_core.errors import NotFound, PermissionDenied
from shop_core.pagination import MAX_PAGE_SIZE, Page, PageRequest
from shop_web.schemas.common import FIELD_ERRORS_SCHEMA, DetailSchema

if TYPE_CHECKING:
    from shop_web.bootstrap import Shop

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
                _verify_caller(optional=True)
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


def current_shop() -> Shop:
    return cast("Shop", flask.current_app.extensions["shop"])


def require_user() -> User:
    """The signed-in user; 401 (raised by flask-jwt-extended) when the token is missing,
    invalid, of the wrong type, or names a user who no longer exists. The token is verified
    and the user loaded once per request: `signed_in` does it, later calls reuse it."""
    user = _verify_caller(optional=False)
    assert user is not None  # verify_jwt_in_request raised otherwise
    return user


def optional_user() -> User | None:
    """The caller, when `maybe_signed_in` found a token."""
    return cast("User | None", flask.g.get(_CALLER))


_CALLER = "shop_caller"


def _verify_caller(*, optional: bool) -> User | None:
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


def page_request(args: Mapping[str, Any]) -> PageRequest:
    return PageRequest(page=args["page"], page_size=min(args["page_size"], MAX_PAGE_SIZE))


def page_body(page: Page[Any]) -> dict[str, Any]:
    """`{count, next, previous, results}` with absolute links, as Django REST framework
    paginates; a page past the end is 404 (the first page may be empty)."""
    request = page.request
    if request.page > 1 and not page.items:
        invalid_page()
    return {
        "count": page.count,
        "next": _page_url(request.page + 1) if page.has_next else None,
        "previous": _page_url(request.page - 1) if page.has_previous else None,
        "results": list(page.items),
    }


def invalid_page() -> NoReturn:
    raise NotFound("Invalid page.")


def _page_url(number: int) -> str:
    request = flask.request
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "page"]
    if number > 1:
        args.append(("page", str(number)))
    query = urlencode(args)
    # `request.base_url`, without its round trip through URL quoting and back (6% of a
    # catalogue page's CPU); the API's paths are plain ASCII.
    base = f"{request.scheme}://{request.host}{request.root_path}{request.path}"
    return f"{base}?{query}" if query else base
