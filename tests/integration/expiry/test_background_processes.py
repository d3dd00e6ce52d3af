"""The background processes share their duties: one sweeps at a time, one schedules at a
time, and a restarted worker takes the scheduling over within seconds."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import redis
from rq.job import Job

from shop_adapters.jobs.queue import expire_order_job_id
from shop_adapters.jobs.worker import SCHEDULING_LOCK_SECONDS, scheduling_lock_key
from shop_core.orders import OrderStatus

from . import processes
from .conftest import add_customer, add_product, close_shop, make_shop, order, place


def test_one_process_at_a_time_has_a_duty(migrated_postgres_url: str) -> None:
    shop = make_shop(migrated_postgres_url)
    other = make_shop(migrated_postgres_url)  # another process: its own connections
    seen: list[bool] = []

    def try_it() -> None:
        with other.database.exclusively("shop:expiry-sweep") as mine:
            seen.append(mine)

    try:
        with shop.database.exclusively("shop:expiry-sweep") as mine:
            assert mine
            thread = threading.Thread(target=try_it)
            thread.start()
            thread.join()
        try_it()
    finally:
        close_shop(shop)
        close_shop(other)
    assert seen == [False, True]


@pytest.mark.redis
def test_a_worker_started_after_one_was_killed_schedules_within_seconds(
        migrated_postgres_url: str, redis_url: str, queue_name: str) -> None:
    client = redis.Redis.from_url(redis_url)
    # No sweep in the workers' time: only their scheduling can expire the order.
    quiet = {"EXPIRY_SWEEP_INTERVAL_SECONDS": "600"}
    first = processes.start("run_worker", queue_name, database_url=migrated_postgres_url,
                            redis_url=redis_url, extra_env=quiet)
    shop = make_shop(migrated_postgres_url, redis_url=redis_url, queue_name=queue_name)
    second = None
    try:
        _wait_for(lambda: client.exists(scheduling_lock_key(queue_name)), first)
        first.kill()  # SIGKILL: it leaves its scheduling lock behind
        first.wait()
        second = processes.start("run_worker", queue_name, database_url=migrated_postgres_url,
                                 redis_url=redis_url, extra_env=quiet)
        placed = place(shop, add_customer(shop), (add_product(shop, stock=2), 1))

        _wait_for(lambda: order(shop, placed.id).status is not OrderStatus.PENDING, second)
        late = (datetime.now(UTC) - placed.expires_at).total_seconds()
        assert late < SCHEDULING_LOCK_SECONDS + 3
        job = Job.fetch(expire_order_job_id(queue_name, placed.id or 0), connection=client)
        assert job.return_value() is True
    finally:
        output = processes.stop(second) if second is not None else ""
        processes.stop(first)
        close_shop(shop)
        client.close()
    assert "Traceback" not in output, output


def _wait_for(condition: Callable[[], object], process: subprocess.Popen[bytes],
              seconds: float = 20) -> None:
    give_up = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, processes.stop(process)
        assert time.monotonic() < give_up, "timed out"
        time.sleep(0.1)
