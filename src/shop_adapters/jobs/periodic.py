"""Duties a shop process does every few seconds: the expiry sweep, reconciliation (asking
the payment provider about payments whose callback may be lost) and pruning the idempotency
keys past their day, one process at a time; and the delivery of events, every process at
once, each its own share.

Deadlines live in the database, so the sweep needs nothing but the database: an order whose
expiry job was never queued (Redis was down) or was lost (Redis came back empty) times out at
most one interval late. Every background process runs the shop's periodic duties (and the web
process does when there is no queue); a database lock per duty lets one process do it at a
time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from shop_core.errors import Unavailable

log = logging.getLogger(__name__)

SWEEP_DUTY = "shop:expiry-sweep"
PRUNE_KEYS_DUTY = "shop:idempotency-prune"
DELIVERY_DUTY = "shop:event-delivery"
RECONCILE_DUTY = "shop:reconciliation"


@contextmanager
def together(duty: str) -> Iterator[bool]:
    """The `exclusively` of a duty every process may do at once: one whose rows are shared
    out by locks (PostgreSQL's SKIP LOCKED; SQLite's one writer at a time)."""
    yield True


class PeriodicDuty:
    """Runs `run()` (which returns how many things it did) every `interval` seconds on a
    thread of its own, while `exclusively(name)` grants this process the duty; logs
    `report % count` when it did something."""

    def __init__(self, name: str, run: Callable[[], int],
                 exclusively: Callable[[str], AbstractContextManager[bool]],
                 interval: float, report: str) -> None:
        self.name = name
        self.report = report
        self._run_once = run
        self._exclusively = exclusively
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """One pass, if no other process is doing it; how many things it did. Never raises:
        an unreachable database is logged once, by the adapter that lost it."""
        try:
            with self._exclusively(self.name) as mine:
                done = self._run_once() if mine else 0
        except Unavailable:
            return 0
        except Exception:
            log.exception("%s failed; trying again in %.0f s", self.name, self.interval)
            return 0
        if done:
            log.info(self.report, done)
        return done

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop, waiting for a pass under way."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.run_once()
