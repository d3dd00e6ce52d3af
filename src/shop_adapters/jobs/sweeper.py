"""The safety net of expiry: every few seconds, one process expires every overdue order.

Deadlines live in the database, so the sweep needs nothing but the database: an order whose
expiry job was never queued (Redis was down) or was lost (Redis came back empty) times out at
most one interval late. Every background process runs a sweeper (and the web process does
when there is no queue); a database lock lets one sweep at a time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

from shop_core.errors import Unavailable

log = logging.getLogger(__name__)

SWEEP_DUTY = "shop:expiry-sweep"


class Sweeper:
    """Runs `sweep()` (expire every overdue order, return how many) every `interval` seconds
    on a thread of its own, while `exclusively(SWEEP_DUTY)` grants it the duty."""

    def __init__(self, sweep: Callable[[], int],
                 exclusively: Callable[[str], AbstractContextManager[bool]],
                 interval: float) -> None:
        self._sweep = sweep
        self._exclusively = exclusively
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep_once(self) -> int:
        """One sweep, if no other process is sweeping; how many orders it expired. Never
        raises: an unreachable database is logged once, by the adapter that lost it."""
        try:
            with self._exclusively(SWEEP_DUTY) as mine:
                expired = self._sweep() if mine else 0
        except Unavailable:
            return 0
        except Exception:
            log.exception("The expiry sweep failed; trying again in %.0f s", self.interval)
            return 0
        if expired:
            log.info("Expired %d overdue orders", expired)
        return expired

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="shop-expiry-sweep",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop sweeping, waiting for a sweep under way."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sweep_once()
