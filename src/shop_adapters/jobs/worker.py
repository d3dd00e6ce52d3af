"""The shop's background processes on RQ: `shop worker` and `shop scheduler`.

Redis is a queue that may lose everything; the database holds the truth. Each process does
its duties in loops that outlive either going away, logs one line when a dependency goes and
one when it is back, and exits only on SIGTERM or SIGINT (or at the end of a burst):
- jobs (workers only): RQ's SimpleWorker runs the queue's jobs in this process. If Redis
  drops it, a new one starts as soon as Redis answers.
- scheduling: every second, the process holding the queue's scheduling duty moves due jobs
  (expiry jobs, retries of failed ones) onto the queue, oldest first and a bounded batch at a
  time. The duty is a Redis lock that lapses `SCHEDULING_LOCK_SECONDS` after its holder stops
  renewing it, so a restarted or surviving process takes over within seconds.
- the periodic duties (`PeriodicDuty`): every few seconds, one process expires every overdue
  order, whatever Redis has kept.
Any number of workers and schedulers may run, on any machines."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any
from uuid import uuid4

from attrs import frozen
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.scheduler import RQScheduler

from shop_adapters.jobs.periodic import PeriodicDuty
from shop_adapters.outages import OutageLog
from shop_core.errors import Unavailable

log = logging.getLogger(__name__)

SCHEDULING_TICK_SECONDS = 1.0
SCHEDULING_LOCK_SECONDS = 5
# How long a process waits before trying Redis again after losing it.
RECONNECT_SECONDS = 1.0
WORKER_TTL_SECONDS = 90


@frozen
class Duties:
    """What a background process does: the queue's jobs and scheduling, and the shop's
    periodic duties (each done by one process at a time)."""

    redis_url: str
    queue_name: str
    periodic: tuple[PeriodicDuty, ...]


def run_worker(duties: Duties, *, burst: bool = False) -> bool:
    """Run the queue's jobs, the scheduling duty and the sweep until stopped; with `burst`,
    move the jobs that are due onto the queue and work until it is empty, once. True if a
    job ran."""
    redis = _connect(duties.redis_url)
    outage = OutageLog("Redis")
    scheduling = SchedulingDuty(redis, duties.queue_name, outage)
    if burst:
        scheduling.tick()
        return _worker(redis, duties.queue_name, threading.Event()).work(burst=True)
    worked = False
    with _until_signalled() as stop, _running(scheduling, duties.periodic, stop), \
            _folded_into(outage):
        while not stop.is_set():
            try:
                worked |= _worker(redis, duties.queue_name, stop).work(
                    logging_level="INFO", with_scheduler=False)
            except RedisError as error:  # raised out of RQ's start-up or teardown
                outage.failed(error)
            stop.wait(RECONNECT_SECONDS)
    return worked


def run_scheduler(duties: Duties, *, burst: bool = False) -> None:
    """The scheduling duty and the sweep, without running jobs: for a deployment that wants
    them in a process of their own. With `burst`, one pass of each."""
    scheduling = SchedulingDuty(_connect(duties.redis_url), duties.queue_name,
                                OutageLog("Redis"))
    if burst:
        scheduling.tick()
        for duty in duties.periodic:
            duty.run_once()
        return
    log.info("Scheduling jobs of queue %s; periodic duties: %s", duties.queue_name,
             ", ".join(f"{duty.name} every {duty.interval:g} s" for duty in duties.periodic))
    with _until_signalled() as stop, _running(scheduling, duties.periodic, stop):
        stop.wait()


class SchedulingDuty:
    """Moves the queue's due scheduled jobs onto it, while this process holds the duty."""

    def __init__(self, redis: Redis, queue_name: str, outage: OutageLog) -> None:
        self._outage = outage
        self._lock = redis.lock(scheduling_lock_key(queue_name),
                                timeout=SCHEDULING_LOCK_SECONDS, thread_local=False)
        self._scheduler = RQScheduler([queue_name], connection=redis)
        self._scheduler.prepare_registries([queue_name])

    def tick(self) -> None:
        try:
            if self._hold():
                self._scheduler.enqueue_scheduled_jobs()  # type: ignore[no-untyped-call]
        except RedisError as error:
            self._outage.failed(error)
            return
        self._outage.answered()

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.tick()
            stop.wait(SCHEDULING_TICK_SECONDS)
        try:
            if self._lock.owned():
                self._lock.release()  # a successor need not wait for it to lapse
        except RedisError:
            pass  # it lapses by itself

    def _hold(self) -> bool:
        if self._lock.owned():
            return bool(self._lock.reacquire())
        return bool(self._lock.acquire(blocking=False))


def scheduling_lock_key(queue_name: str) -> str:
    return f"shop:scheduling-duty:{queue_name}"


class _ShopWorker(SimpleWorker):
    """RQ's in-process worker, reconnecting within seconds of Redis coming back (RQ's own
    backoff grows to a minute), quiet about jobs failed by a database outage, and telling the
    process when a signal asked it to stop."""

    max_connection_wait_time = 2.0

    def __init__(self, *args: Any, stop: threading.Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stop_event = stop

    def handle_exception(self, job: Job, *exc_info: Any) -> None:
        if isinstance(exc_info[1], Unavailable):
            # The database is down: its adapter has logged that once, and RQ still retries
            # the job; a traceback per job would bury the one line.
            return
        super().handle_exception(job, *exc_info)

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stop_event.set()
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]


def _worker(redis: Redis, queue_name: str, stop: threading.Event) -> _ShopWorker:
    # Jobs run in this process (no fork per job): each is one short transaction, and the
    # shop's connection pool then serves every job instead of being copied into forks.
    return _ShopWorker([Queue(queue_name, connection=redis)], connection=redis,
                       name=f"{queue_name}-{uuid4().hex}", worker_ttl=WORKER_TTL_SECONDS,
                       stop=stop)


def _connect(url: str) -> Redis:
    # A connection of its own: RQ raises the socket timeout of the connection it is given to
    # suit its blocking reads, which the request path's fail-fast client must not inherit.
    return Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)


@contextmanager
def _until_signalled() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT (RQ's worker installs its own handlers while it
    works, and sets the event through `_ShopWorker.request_stop`)."""
    stop = threading.Event()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    for sig in previous:
        signal.signal(sig, handle)
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def _running(scheduling: SchedulingDuty, periodic: tuple[PeriodicDuty, ...],
             stop: threading.Event) -> Iterator[None]:
    thread = threading.Thread(target=scheduling.run, args=(stop,), name="shop-scheduling",
                              daemon=True)
    thread.start()
    for duty in periodic:
        duty.start()
    try:
        yield
    finally:
        stop.set()
        for duty in periodic:
            duty.stop()
        thread.join(SCHEDULING_LOCK_SECONDS)


@contextmanager
def _folded_into(outage: OutageLog) -> Iterator[None]:
    """RQ's worker logs each failed reconnection to Redis (with a traceback when Redis drops
    it mid-loop); while this block runs, those lines become the process's one outage line."""
    rq_log = logging.getLogger("rq.worker")
    folding = _OutageFilter(outage)
    rq_log.addFilter(folding)
    try:
        yield
    finally:
        rq_log.removeFilter(folding)


class _OutageFilter(logging.Filter):
    def __init__(self, redis_outage: OutageLog) -> None:
        super().__init__()
        self._redis_outage = redis_outage

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        message = record.getMessage()
        if isinstance(error, RedisError) or "connect to Redis" in message \
                or "Redis connection timeout" in message:
            self._redis_outage.failed(error or ConnectionError(message))
            return False
        return True
