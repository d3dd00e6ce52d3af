"""The processes behind `shop worker`, `shop scheduler` and `shop expire-orders`.

- Workers (any number, on any machines) run the jobs on the shop's RQ queue. Each also runs
  RQ's scheduler, which moves due expiry jobs onto the queue; RQ lets one worker per queue do
  that at a time and hands the duty over when it dies.
- The scheduler (rq-scheduler) enqueues the safety-net sweep once a minute, for orders whose
  expiry job was never scheduled (Redis was down when they were placed) or was lost. Its
  Redis lock makes extra schedulers harmless: the sweep is still enqueued once a minute.
- `sweep_now` expires every overdue order at once, in this process."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from redis import Redis
from rq import Queue, SimpleWorker
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq_scheduler import Scheduler
from rq_scheduler.utils import setup_loghandlers

from shop_adapters.jobs.rq_scheduler import DEFAULT_QUEUE, RqExpiryScheduler
from shop_core.use_cases.expiry import expire_overdue_orders
from shop_web import jobs
from shop_web.bootstrap import Shop
from shop_web.config import ConfigurationError

log = logging.getLogger(__name__)

SWEEP_JOB = "shop_web.jobs.sweep_overdue_orders"
SWEEP_INTERVAL = timedelta(minutes=1)
SWEEP_TIMEOUT_SECONDS = 15 * 60
# How often the scheduler looks for due periodic jobs; its lock lives this long plus 10 s,
# so a scheduler that dies holding it delays the sweep by seconds, not minutes.
SCHEDULER_POLL_SECONDS = 5
# Workers check every minute whether the queue's scheduling duty needs a new owner (RQ's
# default is ten minutes); an idle worker wakes at least this often to do so.
WORKER_MAINTENANCE_SECONDS = 60
WORKER_TTL_SECONDS = 90


def run_worker(shop: Shop, *, burst: bool = False, queue_name: str | None = None) -> bool:
    """Run an RQ worker on the shop's queue, with RQ's scheduler enabled so expiry jobs fire
    at their time. `burst` stops once the queue is empty. True if it ran any job."""
    name = queue_name or _queue_name(shop)
    # Jobs run in this process (no fork per job): each is one short transaction, and the
    # shop's connection pool then serves every job instead of being copied into forks.
    jobs.use_shop(shop)
    connection = _connect(shop)
    worker = SimpleWorker([Queue(name, connection=connection)], connection=connection,
                          name=f"{name}-{uuid4().hex}",
                          maintenance_interval=WORKER_MAINTENANCE_SECONDS,
                          worker_ttl=WORKER_TTL_SECONDS)
    return bool(worker.work(burst=burst, with_scheduler=True))


def run_scheduler(shop: Shop, *, burst: bool = False, queue_name: str | None = None) -> None:
    """Register the periodic sweep (idempotently) and run rq-scheduler until stopped; with
    `burst`, enqueue what is due once and return. Several may run: see `sweep_scheduler`."""
    name = queue_name or _queue_name(shop)
    scheduler = sweep_scheduler(_connect(shop), name)
    register_sweep(scheduler, name)
    setup_loghandlers("INFO")
    log.info("Scheduling the overdue-order sweep every %s on queue %s", SWEEP_INTERVAL, name)
    scheduler.run(burst=burst)


def sweep_now(shop: Shop) -> int:
    """Expire every overdue pending order now, in this process; returns how many."""
    return expire_overdue_orders(shop.uow(), shop.clock)


def sweep_scheduler(connection: Redis, queue_name: str,
                    poll_seconds: float = SCHEDULER_POLL_SECONDS) -> Any:
    """An rq-scheduler `Scheduler` for the queue. Its keys carry the queue name, so shops
    (and tests) sharing a Redis on different queues never move each other's jobs; schedulers
    of one queue share a lock, so only one enqueues at a time."""
    scheduler = Scheduler(queue_name=queue_name, connection=connection, interval=poll_seconds,
                          name=f"{queue_name}-{uuid4().hex}")
    scheduler.scheduled_jobs_key = f"{Scheduler.scheduled_jobs_key}:{queue_name}"
    scheduler.scheduler_lock_key = f"{Scheduler.scheduler_lock_key}:{queue_name}"
    return scheduler


def sweep_job_id(queue_name: str) -> str:
    return f"{queue_name}-sweep-overdue-orders"


def register_sweep(scheduler: Any, queue_name: str, *, wait_seconds: float = 60.0) -> None:
    """Schedule the sweep every `SWEEP_INTERVAL`, first right away. Idempotent: the job has a
    fixed id, and one already registered the same way keeps its next run time. Done under
    the schedulers' lock, so it never interleaves with another scheduler moving the job."""
    job_id = sweep_job_id(queue_name)
    interval = int(SWEEP_INTERVAL.total_seconds())
    give_up = time.monotonic() + wait_seconds
    while not scheduler.acquire_lock():  # held only while jobs are moved: milliseconds
        if time.monotonic() > give_up:
            raise TimeoutError(f"The scheduler lock of queue {queue_name} stayed taken.")
        time.sleep(0.1)
    try:
        if job_id in scheduler and _registered(scheduler, job_id, queue_name, interval):
            return
        scheduler.schedule(datetime.now(UTC), SWEEP_JOB, id=job_id, interval=interval,
                           queue_name=queue_name, timeout=SWEEP_TIMEOUT_SECONDS,
                           description="sweep overdue orders")
    finally:
        scheduler.remove_lock()


def _registered(scheduler: Any, job_id: str, queue_name: str, interval: int) -> bool:
    try:
        job = Job.fetch(job_id, connection=scheduler.connection)
    except NoSuchJobError:
        return False
    return bool(job.func_name == SWEEP_JOB and job.origin == queue_name
                and job.meta.get("interval") == interval)


def _queue_name(shop: Shop) -> str:
    scheduler = shop.scheduler
    return scheduler.queue_name if isinstance(scheduler, RqExpiryScheduler) else DEFAULT_QUEUE


def _connect(shop: Shop) -> Redis:
    # A connection of its own: RQ raises the socket timeout of the connection it is given to
    # suit its blocking reads, which the request path's fail-fast client must not inherit.
    if not shop.settings.redis_url:
        raise ConfigurationError("Background workers need REDIS_URL.")
    return Redis.from_url(shop.settings.redis_url, socket_connect_timeout=5, socket_timeout=30)
