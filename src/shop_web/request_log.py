"""Log lines: the request id on every line of a request, the ids in play, and the format.

A caller may send `X-Request-ID` (a proxy usually does); otherwise one is made up. The id is
kept only if it is short and printable, so a client cannot forge log lines with it.

`LOG_FORMAT=json` writes one JSON object a line (time, level, logger, message, request_id,
and order_id, transaction_id or user_id when one is in play); `text`, the default, a line
for people. Views and jobs `bind` the ids they work on; the signed-in user's id comes from
the request. Nothing else is added: no body, header or token ever reaches a log line.

The access log (a line per request, with its id and duration) is gunicorn's, in the format
its configuration gives it (`shop_web.gunicorn_conf`): writing it from the app as well
cost a catalogue page a tenth of its CPU, and every request was logged twice."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# The ids a view or job is working on, for its log lines; a fresh set per request.
_BOUND: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("shop_log_ids")
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"
JSON_RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}


def bind(**ids: int | str | None) -> None:
    """Name the order, transaction or user in play for the log lines that follow (in this
    request, or this job)."""
    current = _BOUND.get(None)
    values = {key: value for key, value in ids.items() if value is not None}
    _BOUND.set({**(current or {}), **values})


def unbind() -> None:
    _BOUND.set({})


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a request), and the bound ids."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id", "-")
            caller = g.get("shop_caller")
            if caller is not None and caller.id is not None:
                record.user_id = caller.id
        else:
            record.request_id = "-"
        for key, value in (_BOUND.get(None) or {}).items():
            setattr(record, key, value)
        return True


def json_formatter() -> logging.Formatter:
    """One JSON object a line, with an ISO 8601 time (gunicorn's own loggers use it too)."""
    return JsonFormatter(JSON_FIELDS, rename_fields=JSON_RENAMED,
                         datefmt="%Y-%m-%dT%H:%M:%S%z")


def configure_logging(log_format: str = "text", level: int = logging.INFO) -> None:
    """One handler on the root logger, in `log_format`; idempotent."""
    root = logging.getLogger()
    if any(isinstance(f, RequestIdFilter) for h in root.handlers for f in h.filters):
        return
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(json_formatter() if log_format == "json"
                         else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)


def init_app(app: Flask) -> None:
    @app.before_request
    def _assign_request_id() -> None:
        offered = request.headers.get("X-Request-ID", "")
        g.request_id = offered if _ACCEPTABLE_ID.match(offered) else uuid.uuid4().hex
        unbind()  # a worker thread's previous request named other ids

    @app.after_request
    def _tag(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
        return response
