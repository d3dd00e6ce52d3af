"""The periodic sweep's registration: once, however often or however many schedulers start."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from rq import Queue
from rq.job import Job, JobStatus

from shop_web.worker import (
    SWEEP_INTERVAL,
    register_sweep,
    run_scheduler,
    run_worker,
    sweep_job_id,
    sweep_scheduler,
)

from . import processes
from .conftest import close_shop, make_shop

pytestmark = pytest.mark.redis


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


def test_registering_the_sweep_twice_leaves_one_periodic_job(client: redis.Redis,
                                                             queue_name: str) -> None:
    scheduler = sweep_scheduler(client, queue_name)

    register_sweep(scheduler, queue_name)
    register_sweep(sweep_scheduler(client, queue_name), queue_name)

    (job, first_run), = scheduler.get_jobs(with_times=True)
    assert job.id == sweep_job_id(queue_name)
    assert job.func_name == "shop_web.jobs.sweep_overdue_orders"
    assert job.meta["interval"] == SWEEP_INTERVAL.total_seconds()
    assert first_run <= datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=1)


def test_starting_the_scheduler_again_keeps_one_sweep_a_minute(
        migrated_sqlite_url: str, redis_url: str, client: redis.Redis, queue_name: str) -> None:
    shop = make_shop(migrated_sqlite_url, redis_url=redis_url, queue_name=queue_name)
    try:
        run_scheduler(shop, burst=True, queue_name=queue_name)  # registers, enqueues the sweep
        run_scheduler(shop, burst=True, queue_name=queue_name)  # not due again for a minute
    finally:
        close_shop(shop)

    scheduler = sweep_scheduler(client, queue_name)
    (job, next_run), = scheduler.get_jobs(with_times=True)
    assert job.id == sweep_job_id(queue_name)
    assert next_run > datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=50)
    assert Queue(queue_name, connection=client).job_ids == [sweep_job_id(queue_name)]


def test_two_schedulers_running_at_once_enqueue_the_sweep_once(
        migrated_sqlite_url: str, redis_url: str, client: redis.Redis, queue_name: str) -> None:
    queue = Queue(queue_name, connection=client)
    schedulers = [processes.start("run_scheduler", queue_name, database_url=migrated_sqlite_url,
                                  redis_url=redis_url) for _ in range(2)]
    try:
        give_up = time.monotonic() + 15
        while queue.count == 0:
            assert time.monotonic() < give_up, [processes.stop(p) for p in schedulers]
            time.sleep(0.1)
        time.sleep(2)  # both have made their first pass by now
        assert all(process.poll() is None for process in schedulers)
    finally:
        outputs = [processes.stop(process) for process in schedulers]

    assert queue.job_ids == [sweep_job_id(queue_name)], outputs
    assert sweep_scheduler(client, queue_name).count() == 1
    assert not any("Traceback" in output for output in outputs), outputs


def test_the_sweep_runs_again_each_minute(migrated_sqlite_url: str, redis_url: str,
                                          client: redis.Redis, queue_name: str) -> None:
    shop = make_shop(migrated_sqlite_url, redis_url=redis_url, queue_name=queue_name)
    scheduler = sweep_scheduler(client, queue_name)
    register_sweep(scheduler, queue_name)
    try:
        for minute in range(1, 4):
            scheduler.run(burst=True)
            run_worker(shop, burst=True, queue_name=queue_name)
            job = Job.fetch(sweep_job_id(queue_name), connection=client)
            assert job.get_status() is JobStatus.FINISHED
            assert len(job.results()) == minute
            scheduler.change_execution_time(job, datetime.now(UTC))  # a minute passes
    finally:
        close_shop(shop)
