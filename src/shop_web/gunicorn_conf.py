"""The shop's one gunicorn configuration: `shop serve` runs it, and so does production's
`gunicorn --config python:shop_web.gunicorn_conf`. Every value can be set from the
environment (see deploy/README.md); command-line flags still override it.

Loaded in gunicorn's master before any worker starts, which is what prometheus-client's
multiprocess mode needs: the metrics folder is named in the environment here, before a
worker imports the client, then cleaned when the server starts, and a dead worker's live
gauges are dropped when gunicorn reaps it."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

_env = os.environ


def _number(name: str, default: int) -> int:
    raw = _env.get(name, "")
    return int(raw) if raw.strip() else default


def _flag(name: str, default: bool) -> bool:
    raw = _env.get(name, "").strip().lower()
    return default if not raw else raw in ("1", "true", "yes", "on")


wsgi_app = "shop_web.app:create_app()"
_host = _env.get("BIND_HOST") or (
    "0.0.0.0" if _env.get("SHOP_ENV") == "production" else "127.0.0.1")
bind = [f"{_host}:{_number('PORT', 8000)}"]
workers = _number("WEB_CONCURRENCY", 2)
# Threaded workers: placing an order waits on Paymob for up to seconds, and a sync worker
# would be blocked for all of it. Threads share the process's engine, whose pool gives each
# thread its own connection (SQLite included).
worker_class = "gthread"
threads = _number("GUNICORN_THREADS", 8)
# Each worker listens on its own socket and the kernel spreads new connections over them.
# On one shared socket, whichever worker woke first took the connections, and a keep-alive
# client stays with its worker: 8 clients could all land on one worker and get half the
# capacity (measured: 664 against 1,200-1,500 requests/s). `make run` turns it off, so that
# a second copy fails on the busy port rather than sharing it.
reuse_port = _flag("GUNICORN_REUSE_PORT", True)
timeout = _number("GUNICORN_TIMEOUT", 30)
# On SIGTERM, requests under way get this long to finish (an order waits on Paymob for
# at most its 10 s timeout).
graceful_timeout = _number("GUNICORN_GRACEFUL_TIMEOUT", 20)
keepalive = _number("GUNICORN_KEEPALIVE", 5)
# A worker is replaced after about this many requests (0: never), at staggered times so
# that the workers never restart together; whatever a worker leaks is bounded.
max_requests = _number("GUNICORN_MAX_REQUESTS", 20_000)
max_requests_jitter = _number("GUNICORN_MAX_REQUESTS_JITTER", 2_000)
# No control socket: its default path is per user, so two shops on one machine (a test
# server beside `make run`, say) would take it from each other.
control_socket_disable = True

# The access log: client, time, method, path (never the query string, where Paymob's
# redirect puts transaction fields), status, bytes, duration (µs), the worker's pid, the
# request id (the X-Request-ID header `shop_web.request_log` sets) and user agent.
accesslog = _env.get("GUNICORN_ACCESS_LOG", "-") or None  # empty: none
access_log_format = ('%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(D)sus pid=%(p)s '
                     'request_id=%({x-request-id}o)s "%(a)s"')
if _env.get("LOG_FORMAT") == "json":
    _json = {"()": "shop_web.request_log.json_formatter"}
    logconfig_dict: dict[str, Any] = {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"json": _json},
        "handlers": {name: {"class": "logging.StreamHandler", "formatter": "json",
                            "stream": f"ext://sys.{stream}"}
                     for name, stream in (("error", "stderr"), ("access", "stdout"))},
        "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["error"],
                                       "propagate": False},
                    "gunicorn.access": {"level": "INFO", "handlers": ["access"],
                                        "propagate": False}},
        # The app's own handler (`request_log.configure_logging`) is the root's.
        "root": {"level": "INFO", "handlers": []},
    }

# Metrics: the operator's folder (shared with `shop worker` and `shop scheduler` on this
# machine), or one of this server's own, removed when it stops.
_own_metrics_dir = not _env.get("PROMETHEUS_MULTIPROC_DIR")
if _own_metrics_dir:
    _env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="shop-metrics-")


def on_starting(server: Any) -> None:
    """Create the metrics folder, and remove the files of processes that are gone: a new
    server counts from zero, while the RQ workers still running keep their counts. Before
    any metric exists: prometheus-client writes its files as metrics are made."""
    folder = Path(_env["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for file in folder.glob("*.db"):
        pid = file.stem.rpartition("_")[2]
        if not pid.isdigit() or not _alive(int(pid)):
            file.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process, but alive
        return True
    return True


def child_exit(server: Any, worker: Any) -> None:
    from shop_web.metrics import process_exited

    process_exited(worker.pid)


def on_exit(server: Any) -> None:
    if _own_metrics_dir:
        shutil.rmtree(_env["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
