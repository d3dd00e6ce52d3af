"""Running a back-office action at most once per submitted form.

The form's key is claimed as the staff member's `Idempotency-Key` by the API's own
`once_per_key`: a repeat of the same form gets the first answer; a refusal that changed
nothing frees the key for a corrected form."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from attrs import frozen
from flask import Response, request

from shop_core.errors import Conflict, PaymentProviderError, ShopError
from shop_web.errors import error_response, status_for
from shop_web.idempotency import REPLAYED, once_per_key
from shop_web.staff.session import CSRF_FIELD, staff_id

DONE = 303


@frozen
class Outcome:
    """What the action said (the notice shown), and whether it was the first time."""

    message: str
    replayed: bool = False


def once(key: str, action: Callable[[], str]) -> Outcome:
    failures: list[ShopError] = []

    def remembered(error: ShopError) -> Response:
        # The staff's error page, not this answer, tells of the first failure (and logs it).
        failures.append(error)
        return error_response({"detail": error.detail}, status_for(error))

    answer = once_per_key(staff_id(), key, _fingerprint(),
                          lambda: Response(action(), status=DONE), render_error=remembered)
    if failures:
        raise failures[0]
    if answer.status_code != DONE:
        # Replay the first submission's failure: only a provider's keeps the key.
        failed = PaymentProviderError if answer.status_code == 502 else Conflict
        raise failed(str(json.loads(answer.get_data())["detail"]))
    return Outcome(answer.get_data(as_text=True), replayed=REPLAYED in answer.headers)


def _fingerprint() -> str:
    fields = sorted((name, value) for name, value in request.form.items(multi=True)
                    if name not in (CSRF_FIELD, "request_key"))
    return hashlib.sha256(f"{request.method} {request.path}\n{fields!r}".encode()).hexdigest()
