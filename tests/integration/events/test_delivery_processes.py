"""The background processes that deliver events: a killed one loses nothing, and two at once
send each event once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from shop_adapters.sqlalchemy.migrate import upgrade
from shop_core.events import EventType
from shop_core.money import Money
from shop_core.orders import CartLine
from shop_core.subscriptions import DeliveryQuery, DeliveryStatus
from shop_core.testing import FakePaymentGateway
from shop_core.use_cases.accounts import Registration
from shop_core.use_cases.catalogue import ProductDetails
from shop_core.use_cases.ordering import PlaceOrder
from shop_core.use_cases.subscriptions import Subscribe
from shop_web.bootstrap import Shop, build_shop
from shop_web.config import Settings
from tests.receivers import Receiver

SHOP = Path(sys.executable).with_name("shop")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


def environment(url: str, **extra: str) -> dict[str, str]:
    return {"SHOP_ENV": "test", "DATABASE_URL": url, "PASSWORD_HASH_PROFILE": "cheap", **extra}


@pytest.fixture
def shop_on(request: pytest.FixtureRequest) -> Iterator[tuple[Shop, str]]:
    url = str(request.getfixturevalue(request.param))
    upgrade(url)
    shop = build_shop(Settings.from_env(environment(url)), gateway=FakePaymentGateway())
    yield shop, url
    shop.database.dispose()


def orders_placed(shop: Shop, receiver: Receiver, count: int) -> None:
    shop.webhooks.subscribe(Subscribe(receiver.url, frozenset({EventType.ORDER_PLACED})))
    customer = shop.accounts.register(Registration("amira", "amira@example.com",
                                                   "correct horse battery"))
    product = shop.catalogue.create(ProductDetails("Mug", Money(2500, "EGP"), 10_000))
    for _ in range(count):
        shop.orders.place(PlaceOrder(customer.id or 0, (CartLine(product.id or 0, 1),)),
                          customer)


def deliver(url: str, **extra: str) -> subprocess.Popen[bytes]:
    """`shop deliver-events` in a process of its own."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("SHOP_", "DATABASE"))},
           **environment(url, **extra)}
    return subprocess.Popen([str(SHOP), "deliver-events"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def finished(process: subprocess.Popen[bytes]) -> str:
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output.decode()
    return output.decode()


@pytest.mark.parametrize("shop_on", ["sqlite_url", "postgres_url"], indirect=True)
def test_a_worker_killed_while_sending_is_made_good_by_the_next_once(
        shop_on: tuple[Shop, str], receiver: Receiver) -> None:
    shop, url = shop_on
    orders_placed(shop, receiver, 1)
    receiver.answers = [Receiver.HANG]
    worker = deliver(url, EVENT_DELIVERY_LEASE_SECONDS="2")
    assert receiver.hanging.wait(60), "the worker never sent"
    worker.send_signal(signal.SIGKILL)  # mid-way: sent, not yet answered, nothing recorded
    worker.wait(10)
    receiver.release()
    assert receiver.delivered() == []

    time.sleep(2.2)  # the dead worker's lease lapses
    finished(deliver(url))
    finished(deliver(url))
    assert receiver.types() == ["order.placed"]
    with shop.uow() as uow:
        [delivery] = uow.deliveries.find(DeliveryQuery(1)).items
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)


@pytest.mark.postgres
def test_two_workers_draining_one_outbox_send_each_event_once(
        postgres_url: str, receiver: Receiver) -> None:
    upgrade(postgres_url)
    shop = build_shop(Settings.from_env(environment(postgres_url)),
                      gateway=FakePaymentGateway())
    try:
        orders_placed(shop, receiver, 80)
    finally:
        shop.database.dispose()
    # The second starts once the first has handed the outbox out and is sending, and the
    # first's request is held until the second's arrives: both surely work side by side,
    # and the second finds deliveries due that the first has not leased.
    receiver.meet = threading.Barrier(2)
    receiver.delay = 0.01
    workers = [deliver(postgres_url)]
    assert receiver.first_arrived.wait(60), "the first worker never sent"
    workers.append(deliver(postgres_url))
    outputs = [finished(worker) for worker in workers]
    sent = Counter(r.event["id"] for r in receiver.received)
    assert len(sent) == 80 and set(sent.values()) == {1}, sent.most_common(3)
    # Both did a share: 80 events handed out and 80 deliveries sent between them.
    done = [int(re.search(r"delivered (\d+) events", output)[1])  # type: ignore[index]
            for output in outputs]
    assert sum(done) == 160 and min(done) > 0, outputs
