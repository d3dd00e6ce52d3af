"""Running a back-office action at most once per submitted form.

The form's key is claimed as the staff member's `Idempotency-Key` through the same
mechanism as the API's (`shop_core.use_cases.idempotency`): a repeat of the same form gets
the first answer; a refusal that changed nothing frees the key for a corrected form."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable

from attrs import frozen
from flask import request

from shop_core.errors import Conflict, PaymentProviderError, ShopError, Unavailable
from shop_core.use_cases import idempotency
from shop_web.bootstrap import current_shop
from shop_web.errors import status_for
from shop_web.staff.session import CSRF_FIELD, staff_id

DONE = 303


@frozen
class Outcome:
    """What the action said (the notice shown), and whether it was the first time."""

    message: str
    replayed: bool = False


def once(key: str, action: Callable[[], str]) -> Outcome:
    shop, owner = current_shop(), staff_id()
    earlier = idempotency.claim(shop.uow(), shop.clock, owner, key, _fingerprint())
    if earlier is not None:
        if earlier.status != DONE:
            # Replay the first submission's failure: only a provider's keeps the key.
            failed = PaymentProviderError if earlier.status == 502 else Conflict
            raise failed(earlier.body)
        return Outcome(earlier.body, replayed=True)
    try:
        message = action()
    except ShopError as error:
        status = status_for(error)
        if isinstance(error, Unavailable) or 400 <= status < 500:
            with contextlib.suppress(Unavailable):
                idempotency.release(shop.uow(), owner, key)
        else:
            idempotency.remember(shop.uow(), owner, key, idempotency.Answer(status,
                                                                             error.detail))
        raise
    idempotency.remember(shop.uow(), owner, key, idempotency.Answer(DONE, message))
    return Outcome(message)


def _fingerprint() -> str:
    fields = sorted((name, value) for name, value in request.form.items(multi=True)
                    if name not in (CSRF_FIELD, "request_key"))
    return hashlib.sha256(f"{request.method} {request.path}\n{fields!r}".encode()).hexdigest()
