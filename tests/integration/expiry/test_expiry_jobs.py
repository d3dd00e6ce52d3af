"""An unpaid order times out within seconds of its deadline, through RQ and Redis."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
from rq import Queue
from rq.job import Job

from shop_adapters.jobs.queue import RqExpiryScheduler, connect, expire_order_job_id
from shop_core.orders import OrderStatus
from shop_core.testing import FakeClock
from shop_web.bootstrap import EXPIRE_ORDER_JOB
from tests.ports import free_port

from . import processes
from .conftest import (
    ORDER_TIMEOUT,
    add_customer,
    add_product,
    close_shop,
    make_shop,
    order,
    place,
    product,
    run_scheduler_once,
    run_worker_once,
)

pytestmark = pytest.mark.redis

# The job runs on the whole second after the deadline plus a second of grace, and RQ's
# scheduler looks for due jobs every second.
PROMPTLY = timedelta(seconds=4)


def seconds_late(deadline: datetime) -> float:
    return (datetime.now(UTC) - deadline).total_seconds()


def test_scheduling_an_order_twice_keeps_one_job_after_its_deadline(redis_url: str,
                                                                     queue_name: str) -> None:
    client = connect(redis_url)
    scheduler = RqExpiryScheduler(client, EXPIRE_ORDER_JOB, queue_name)
    deadline = datetime(2030, 1, 1, 12, 0, 0, 250_000, tzinfo=UTC)

    scheduler.schedule(7, deadline)
    scheduler.schedule(7, deadline)

    registry = Queue(queue_name, connection=client).scheduled_job_registry
    job_id = expire_order_job_id(queue_name, 7)
    assert registry.get_job_ids() == [job_id]
    assert registry.get_scheduled_time(job_id) > deadline
    job = Job.fetch(job_id, connection=client)
    assert (job.func_name, job.args) == (EXPIRE_ORDER_JOB, (7,))
    client.close()


def test_unpaid_order_times_out_within_seconds_of_its_deadline(
        migrated_url: str, redis_url: str, queue_name: str) -> None:
    shop = make_shop(migrated_url, redis_url=redis_url, queue_name=queue_name)
    try:
        mug = add_product(shop, stock=10)
        placed = place(shop, add_customer(shop), (mug, 3))
        assert product(shop, mug).stock == 7

        run_worker_once(shop, queue_name)  # before the deadline: not due
        assert order(shop, placed.id).status is OrderStatus.PENDING

        while order(shop, placed.id).status is OrderStatus.PENDING:
            assert seconds_late(placed.expires_at) < PROMPTLY.total_seconds()
            time.sleep(0.2)
            run_worker_once(shop, queue_name)

        assert order(shop, placed.id).status is OrderStatus.TIMEOUT
        assert seconds_late(placed.expires_at) >= 0
        job = Job.fetch(expire_order_job_id(queue_name, placed.id or 0),
                        connection=shop.redis)
        assert job.return_value() is True  # its own job timed it out, not the sweep
        assert product(shop, mug).stock == 10
    finally:
        close_shop(shop)


def test_a_running_worker_times_orders_out_by_itself(
        migrated_postgres_url: str, redis_url: str, queue_name: str) -> None:
    worker = processes.start("run_worker", queue_name, database_url=migrated_postgres_url,
                             redis_url=redis_url)
    shop = make_shop(migrated_postgres_url, redis_url=redis_url, queue_name=queue_name)
    try:
        mug = add_product(shop, stock=5)
        alice = add_customer(shop)
        first, second = place(shop, alice, (mug, 1)), place(shop, alice, (mug, 2))

        while order(shop, second.id).status is OrderStatus.PENDING:
            assert worker.poll() is None, processes.stop(worker)
            assert seconds_late(second.expires_at) < PROMPTLY.total_seconds()
            time.sleep(0.1)

        assert order(shop, first.id).status is OrderStatus.TIMEOUT
        assert order(shop, second.id).status is OrderStatus.TIMEOUT
        assert product(shop, mug).stock == 5
    finally:
        output = processes.stop(worker)
        close_shop(shop)
    assert "Traceback" not in output, output


def test_order_placed_while_redis_is_down_stands_and_the_sweep_expires_it(
        migrated_url: str, redis_url: str, queue_name: str,
        caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(datetime.now(UTC))
    dead_redis = connect(f"redis://127.0.0.1:{free_port()}/0")
    shop = make_shop(migrated_url, redis_url=redis_url, queue_name=queue_name, clock=clock,
                     scheduler_redis=dead_redis)
    try:
        mug = add_product(shop, stock=4)
        alice = add_customer(shop)

        with caplog.at_level(logging.WARNING):
            started = time.monotonic()
            placed = place(shop, alice, (mug, 4))
            took = time.monotonic() - started

        assert took < 1.5
        assert placed.status is OrderStatus.PENDING and placed.payment is not None
        assert order(shop, placed.id).status is OrderStatus.PENDING
        assert product(shop, mug).stock == 0
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1 and warnings[0].startswith("Redis is unreachable")

        clock.advance(ORDER_TIMEOUT + timedelta(seconds=1))
        run_scheduler_once(shop, queue_name)  # sweeps, needing nothing of Redis

        assert order(shop, placed.id).status is OrderStatus.TIMEOUT
        assert product(shop, mug).stock == 4
    finally:
        dead_redis.close()
        close_shop(shop)
