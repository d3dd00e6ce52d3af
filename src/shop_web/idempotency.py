"""`Idempotency-Key` on every request that moves money, with one decorator.

The key is claimed before the view runs (`shop_core.use_cases.idempotency`); the view's
answer, whatever it is, is remembered and replayed to a repeat of the same request with
`Idempotent-Replayed: true`. A refusal that changed nothing (any 4xx, or the database being
unavailable) frees the key instead, so a corrected request may use it."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Response, request

from shop_core.errors import ShopError, Unavailable, ValidationError
from shop_core.use_cases import idempotency
from shop_web.api.caller import require_user, user_id
from shop_web.bootstrap import current_shop
from shop_web.errors import handle_shop_error

F = TypeVar("F", bound=Callable[..., Any])

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


def idempotent(*, required: bool) -> Callable[[F], F]:
    """Make the decorated view (which returns a JSON `Response`) safe to repeat."""
    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            key = request.headers.get(HEADER)
            if key is None:
                if required:
                    raise ValidationError({HEADER: ["This header is required."]})
                return cast(Response, view(*args, **kwargs))
            return once_per_key(user_id(require_user()), key, _fingerprint(),
                                lambda: cast(Response, view(*args, **kwargs)))
        return cast(F, wrapper)
    return decorator


def once_per_key(owner: int, key: str, fingerprint: str, run: Callable[[], Response], *,
                 render_error: Callable[[ShopError], Response] = handle_shop_error,
                 ) -> Response:
    """Run `run` once for the owner's `key` and the request `fingerprint` names; a repeat
    gets the first answer again, marked `Idempotent-Replayed: true`. A `ShopError` is
    answered by `render_error`."""
    shop = current_shop()
    earlier = idempotency.claim(shop.uow(), shop.clock, owner, key, fingerprint)
    if earlier is not None:
        replay = Response(earlier.body, status=earlier.status, mimetype="application/json")
        replay.headers[REPLAYED] = "true"
        return replay
    try:
        response = run()
    except ShopError as error:
        response = render_error(error)
        if isinstance(error, Unavailable) or 400 <= response.status_code < 500:
            _release(owner, key)
            return response
    # Anything else is a bug, whose effects are unknown: the key stays claimed (a repeat
    # is told to retry, until the key is pruned) rather than let the request run twice.
    idempotency.remember(shop.uow(), owner, key, idempotency.Answer(
        response.status_code, response.get_data(as_text=True)))
    return response


def _release(owner: int, key: str) -> None:
    # Unreachable database: the key stays claimed; a repeat is told to retry until it
    # expires.
    with contextlib.suppress(Unavailable):
        idempotency.release(current_shop().uow(), owner, key)


def _fingerprint() -> str:
    """The request a key was used for: method, path and the body, its JSON canonical."""
    raw = request.get_data()
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        body = raw
    return hashlib.sha256(b"%s %s\n%s" % (request.method.encode(), request.path.encode(),
                                          body)).hexdigest()
