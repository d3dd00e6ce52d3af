"""Request ids: every log line of a request carries its id, and the response says it.

A caller may send `X-Request-ID` (a proxy usually does); otherwise one is made up. The id is
kept only if it is short and printable, so a client cannot forge log lines with it.

The access log (a line per request, with its id and duration) is gunicorn's, in the format
`shop serve` gives it (`shop_web.cli.ACCESS_LOG_FORMAT`): writing it from the app as well
cost a catalogue page a tenth of its CPU, and every request was logged twice."""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, Response, g, has_request_context, request

_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """One handler on the root logger with the request id in its format; idempotent."""
    root = logging.getLogger()
    if any(isinstance(f, RequestIdFilter) for h in root.handlers for f in h.filters):
        return
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)


def init_app(app: Flask) -> None:
    @app.before_request
    def _assign_request_id() -> None:
        offered = request.headers.get("X-Request-ID", "")
        g.request_id = offered if _ACCEPTABLE_ID.match(offered) else uuid.uuid4().hex

    @app.after_request
    def _tag(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
        return response
