"""One log line when a dependency stops answering and one when it answers again.

A database or Redis outage fails every request and every loop iteration that needs it; a
warning (and traceback) for each would bury the one fact an operator needs: what went away,
when, and when it came back. Callers report each failure and each success; the log keeps
the transitions only."""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)


class OutageLog:
    """The state of one dependency (`name`) as this process last saw it. Thread-safe; a
    success while nothing is wrong costs one attribute read."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._down_since: float | None = None
        self._lock = threading.Lock()

    @property
    def is_down(self) -> bool:
        return self._down_since is not None

    def failed(self, error: BaseException) -> None:
        """`error` came from the dependency; only the first of an outage is logged."""
        with self._lock:
            if self._down_since is not None:
                return
            self._down_since = time.monotonic()
        log.warning("%s is unreachable (%s); carrying on and retrying until it answers",
                    self.name, _first_line(error))

    def answered(self) -> None:
        """The dependency answered; logs the recovery if it had been down."""
        if self._down_since is None:
            return
        with self._lock:
            since, self._down_since = self._down_since, None
        if since is not None:
            log.warning("%s answers again, after %.1f s", self.name, time.monotonic() - since)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__
