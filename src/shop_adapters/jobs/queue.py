"""Order expiry on RQ: each pending order gets a one-off job at its deadline.

The job is RQ's own scheduled job (`Queue.enqueue_at`), moved onto the queue when due by
whichever shop process holds the queue's scheduling duty (`shop_adapters.jobs.worker`), so an
order times out within a few seconds of its deadline. The job function is the composition
root's to name (by its dotted path), so this adapter knows nothing of who defines it."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta

from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry as ConnectionRetry
from rq import Queue, Retry

from shop_adapters.outages import OutageLog

DEFAULT_QUEUE = "shop"
# Placing an order waits on Redis after its commit; a dead or hung Redis must cost about a
# second there, not the client library's defaults. The sweep expires the order instead.
FAIL_FAST_TIMEOUT = 1.0
# RQ keeps whole seconds of the run time (and drops the fraction), and the worker's clock may
# trail the web process's a little: run a moment after the deadline so the job finds the
# order overdue. A job that still runs early changes nothing; the sweep catches that order.
CLOCK_SKEW_GRACE = timedelta(seconds=1)
# A job that fails (database unreachable, say) is tried again soon; the sweep is the last
# resort.
JOB_RETRY_INTERVALS = [2, 5, 15, 30, 60]
JOB_TIMEOUT_SECONDS = 60


def connect(url: str, *, timeout: float = FAIL_FAST_TIMEOUT) -> Redis:
    """A Redis client for the request path: a refused or hung connection fails within about
    `timeout` seconds (one retry on a dropped connection, none after a timeout)."""
    return Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout,
                          retry=ConnectionRetry(NoBackoff(), 1))


def expire_order_job_id(queue_name: str, order_id: int) -> str:
    """One job per order and queue: scheduling an order again replaces its job."""
    # RQ accepts only letters, digits, '_' and '-' in job ids.
    return f"{re.sub(r'[^A-Za-z0-9_-]', '_', queue_name)}-expire-order-{order_id}"


def run_time(deadline: datetime) -> datetime:
    """When the expiry job of an order due at `deadline` should run."""
    whole = datetime.fromtimestamp(math.ceil(deadline.timestamp()), tz=deadline.tzinfo)
    return whole + CLOCK_SKEW_GRACE


class RqExpiryScheduler:
    """The core's `ExpiryScheduler`: enqueues `job(order_id)` (a dotted path) on the RQ queue
    `queue_name`, to run just after `at`. When Redis does not answer, the order is left to the
    periodic sweep: the outage is logged once (`outage`), not once per order."""

    def __init__(self, redis_client: Redis, job: str, queue_name: str = DEFAULT_QUEUE) -> None:
        self.redis = redis_client
        self.job = job
        self.queue = Queue(queue_name, connection=redis_client)
        self.outage = OutageLog("Redis")

    @property
    def queue_name(self) -> str:
        return str(self.queue.name)

    def schedule(self, order_id: int, at: datetime) -> None:
        try:
            self.queue.enqueue_at(
                run_time(at), self.job, order_id,
                job_id=expire_order_job_id(self.queue_name, order_id),
                job_timeout=JOB_TIMEOUT_SECONDS,
                retry=Retry(max=len(JOB_RETRY_INTERVALS), interval=JOB_RETRY_INTERVALS),
                description=f"expire order {order_id}",
            )
        except RedisError as error:
            self.outage.failed(error)
            return
        self.outage.answered()
