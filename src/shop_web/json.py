"""The API's JSON responses, encoded by orjson.

A catalogue page is twenty products; encoding it with the standard library's `json` was a
tenth of the page's framework CPU, orjson's C encoder a fraction of that. Keys keep the
order the schemas give them. Request bodies are still parsed by Flask's standard decoder,
whose errors (depth, huge numbers) the API already answers."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON provider with orjson's encoder; what orjson cannot encode itself (a
    Decimal, say) goes through Flask's usual conversions."""

    sort_keys = False  # the documented order, here and in the standard encoder below

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs:
            # Formatting asked for by name (the OpenAPI document's `indent=2`): orjson has
            # no equivalent for all of them, and these are not the hot path.
            return super().dumps(obj, **kwargs)
        return self._encode(obj).decode()

    def response(self, *args: Any, **kwargs: Any) -> Response:
        body = self._encode(self._prepare_response_obj(args, kwargs))
        return Response(body, mimetype=self.mimetype)

    def _encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=self.default)
