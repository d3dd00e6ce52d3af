"""The outbox, subscription and delivery ports behave alike on the fakes, SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest

from shop_core.events import Event, EventType
from shop_core.pagination import PageRequest
from shop_core.ports import UnitOfWork
from shop_core.subscriptions import (
    Attempt,
    DeliveryQuery,
    DeliveryStatus,
    Handler,
    Subscription,
    deliveries_for,
)

from .support import NOW, InMemoryStore, Store, later


@pytest.fixture(params=["fakes", "sqlite", "postgresql"])
def uow(request: pytest.FixtureRequest) -> UnitOfWork:
    if request.param == "fakes":
        return InMemoryStore().unit_of_work()
    store: Store = request.getfixturevalue("sqlite_db" if request.param == "sqlite"
                                           else "pg_db")
    return store.unit_of_work()


def an_event(order_id: int | None = 1, kind: EventType = EventType.ORDER_PAID) -> Event:
    return Event(type=kind, created_at=NOW, order_id=order_id,
                 data={"id": order_id, "items": [{"name": "Mug \u00fc", "quantity": 2}],
                       "needs_refund": False, "payment_url": None})


def a_subscription(uow: UnitOfWork, *kinds: EventType) -> Subscription:
    with uow:
        stored = uow.subscriptions.add(Subscription(
            id=None, url="https://erp.example/in", events=frozenset(kinds or EventType),
            description="ERP", secret="whsec_x", created_at=NOW))
        uow.commit()
    return stored


def test_the_outbox_hands_out_its_events_oldest_first_and_once(uow: UnitOfWork) -> None:
    events = [an_event(order_id) for order_id in (1, 2, 3)]
    with uow:
        uow.outbox.add(events[:1])
        uow.outbox.add(events[1:])
        uow.commit()
    with uow:
        assert uow.outbox.take(2) == events[:2]
        uow.outbox.handed_out([e.id for e in events[:2]], later(1))
        uow.commit()
    with uow:
        assert uow.outbox.take(10) == events[2:]
    with uow:
        uow.outbox.add([an_event()])  # rolled back
    with uow:
        assert uow.outbox.take(10) == events[2:]


def test_subscriptions_are_stored_listed_disabled_and_deleted(uow: UnitOfWork) -> None:
    first = a_subscription(uow, EventType.ORDER_PAID, EventType.ORDER_PLACED)
    second = a_subscription(uow)
    with uow:
        assert uow.subscriptions.get(first.id or 0) == first
        uow.subscriptions.set_state(first.id or 0, disabled_at=later(1), last_error="HTTP 500")
        uow.commit()
    with uow:
        page = uow.subscriptions.find(PageRequest(page=1, page_size=1))
        assert (page.count, [s.id for s in page.items]) == (2, [first.id])
        assert page.items[0].disabled_at == later(1)
        assert [s.id for s in uow.subscriptions.every()] == [first.id, second.id]
        assert uow.subscriptions.delete(first.id or 0)
        assert not uow.subscriptions.delete(first.id or 0)
        uow.commit()
    with uow:
        assert uow.subscriptions.get(first.id or 0) is None


def test_deliveries_are_claimed_once_in_event_order_per_order(uow: UnitOfWork) -> None:
    subscription = a_subscription(uow)
    mail = Handler("mail", frozenset({EventType.ORDER_PAID}), lambda event: None)
    placed, paid, other = (an_event(1, EventType.ORDER_PLACED), an_event(1),
                           an_event(2, EventType.ORDER_PLACED))
    with uow:
        uow.outbox.add([placed, paid, other])
        uow.deliveries.add([d for e in (placed, paid, other)
                            for d in deliveries_for(e, [subscription, mail], NOW)])
        uow.commit()
    lease = later(5)
    with uow:
        claims = uow.deliveries.claim_due(NOW, 10, lease)
        uow.commit()
    # The webhook gets order 1's placement (its payment waits) and order 2's; the mail
    # handler wants only the payment, which has nothing before it.
    hook = subscription.subscriber
    assert [(c.delivery.subscriber, c.event) for c in claims] == [
        (hook, placed), ("handler:mail", paid), (hook, other)]
    assert claims[0].subscription == subscription and claims[1].subscription is None
    with uow:
        assert uow.deliveries.claim_due(NOW, 10, lease) == []  # leased
    first = claims[0].delivery
    first.status, first.attempts, first.last_status_code = DeliveryStatus.DELIVERED, 1, 200
    first.lease_until, first.delivered_at = None, later(1)
    with uow:
        assert uow.deliveries.settle(first, leased_until=lease)
        assert not uow.deliveries.settle(first, leased_until=lease)  # not ours any more
        uow.deliveries.add_attempt(Attempt(first.id or 0, later(1), 12, 200, None))
        uow.commit()
    with uow:
        [next_one] = uow.deliveries.claim_due(later(1), 10, later(6))
        uow.commit()
    assert next_one.event == paid and next_one.delivery.subscriber == subscription.subscriber
    with uow:  # a sender that died: the lease lapses
        lapsed = uow.deliveries.claim_due(later(5), 10, later(10))
    assert {c.event.id for c in lapsed} == {paid.id, other.id}
    with uow:
        page = uow.deliveries.find(DeliveryQuery(subscription.id or 0))
        attempts = uow.deliveries.attempts([d.id or 0 for d in page.items])
    assert page.count == 3 and page.items[-1] == first
    assert attempts == {first.id: [Attempt(first.id or 0, later(1), 12, 200, None)]}


def test_deliveries_to_a_disabled_target_wait(uow: UnitOfWork) -> None:
    subscription = a_subscription(uow)
    event = an_event()
    with uow:
        uow.outbox.add([event])
        uow.deliveries.add(deliveries_for(event, [subscription], NOW))
        uow.subscriptions.set_state(subscription.id or 0, disabled_at=NOW, last_error="x")
        uow.commit()
    with uow:
        assert uow.deliveries.claim_due(later(60), 10, later(65)) == []
        uow.subscriptions.set_state(subscription.id or 0, disabled_at=None, last_error="x")
        assert len(uow.deliveries.claim_due(later(60), 10, later(65))) == 1
