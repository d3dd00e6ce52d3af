"""Handing events out to subscribers and delivering them: order, retries, giving up."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shop_core.errors import Conflict, ValidationError
from shop_core.events import Event, EventType
from shop_core.subscriptions import (
    AttemptResult,
    DeliveryQuery,
    DeliveryStatus,
    Handler,
    RetryPolicy,
)
from shop_core.testing import FakeTargetCheck, FakeWebhookSender
from shop_core.use_cases.delivery import deliver_due, deliver_everything, hand_out
from shop_core.use_cases.subscriptions import (
    Subscribe,
    list_deliveries,
    replay_delivery,
    subscribe,
)

from .builders import Shop

T = EventType
EVERYTHING = frozenset(EventType)
POLICY = RetryPolicy(jitter=lambda: 1.0)
FAILED_500 = AttemptResult(delivered=False, duration_ms=3, status_code=500,
                           error="HTTP 500", retryable=True)


@pytest.fixture
def sender() -> FakeWebhookSender:
    return FakeWebhookSender()


def subscribed(shop: Shop, events: frozenset[EventType] = EVERYTHING) -> int:
    subscription = subscribe(shop.uow, shop.clock, FakeTargetCheck(),
                             Subscribe("https://erp.example/hooks", events))
    assert subscription.id is not None
    return subscription.id


def run(shop: Shop, sender: FakeWebhookSender, *handlers: Handler) -> int:
    return deliver_everything(shop.uow, shop.clock, handlers, sender=sender, policy=POLICY)


def sent_types(sender: FakeWebhookSender) -> list[tuple[EventType, int | None]]:
    return [(event.type, event.order_id) for _, event in sender.sent]


def test_each_event_reaches_each_subscriber_that_wants_it_once(
        shop: Shop, sender: FakeWebhookSender) -> None:
    everything, paid_only = subscribed(shop), subscribed(shop, frozenset({T.ORDER_PAID}))
    order = shop.place(shop.add_customer(), (shop.add_product(), 1))
    shop.pay(order)
    run(shop, sender)
    run(shop, sender)
    assert [event.type for sid, event in sender.sent if sid == everything] == [
        T.ORDER_PLACED, T.ORDER_PAID]
    assert [event.type for sid, event in sender.sent if sid == paid_only] == [T.ORDER_PAID]


def test_a_subscription_hears_only_of_events_after_it(shop: Shop,
                                                      sender: FakeWebhookSender) -> None:
    shop.place(shop.add_customer(), (shop.add_product(), 1))
    run(shop, sender)
    subscribed(shop)
    run(shop, sender)
    assert sender.sent == []


def test_a_failed_try_is_retried_with_backoff_and_every_attempt_recorded(
        shop: Shop, sender: FakeWebhookSender) -> None:
    subscription = subscribed(shop)
    shop.place(shop.add_customer(), (shop.add_product(), 1))
    sender.answers = [FAILED_500]
    run(shop, sender)
    assert len(sender.sent) == 1
    run(shop, sender)  # not due yet
    assert len(sender.sent) == 1
    shop.clock.advance(POLICY.first_delay)
    run(shop, sender)
    assert len(sender.sent) == 2
    page, attempts = list_deliveries(shop.uow, DeliveryQuery(subscription))
    [delivery] = page.items
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert [a.status_code for a in attempts[delivery.id or 0]] == [500, 200]


def test_the_backoff_doubles_up_to_its_longest_delay() -> None:
    from shop_core.subscriptions import Delivery

    start = Shop().clock.now()
    delivery = Delivery(id=1, event_id="e", event_type=T.ORDER_PAID, subscriber="webhook:1",
                        subscription_id=1, order_id=1, status=DeliveryStatus.IN_FLIGHT,
                        created_at=start, next_attempt_at=start)
    delays = []
    for attempts in (1, 2, 3, 12):
        delivery.attempts = attempts
        next_at = POLICY.next_attempt(delivery, start)
        assert next_at is not None
        delays.append(next_at - start)
    assert delays == [timedelta(seconds=10), timedelta(seconds=20), timedelta(seconds=40),
                      timedelta(hours=1)]
    half = RetryPolicy(jitter=lambda: 0.0).next_attempt(delivery, start)
    assert half == start + timedelta(minutes=30)


def test_a_refusal_is_not_retried(shop: Shop, sender: FakeWebhookSender) -> None:
    subscribed(shop)
    shop.place(shop.add_customer(), (shop.add_product(), 1))
    sender.answers = [AttemptResult(delivered=False, duration_ms=1, status_code=410,
                                    error="HTTP 410")]
    run(shop, sender)
    shop.clock.advance(timedelta(hours=2))
    run(shop, sender)
    assert len(sender.sent) == 1
    [delivery] = shop.uow.store.deliveries.values()
    assert delivery.status is DeliveryStatus.FAILED


def test_an_orders_later_events_wait_for_its_earlier_one(shop: Shop,
                                                          sender: FakeWebhookSender) -> None:
    subscribed(shop)
    customer, product = shop.add_customer(), shop.add_product()
    first = shop.place(customer, (product, 1))
    shop.pay(first)
    other = shop.place(customer, (product, 1))
    sender.answers = [FAILED_500]
    run(shop, sender)
    # first's placement failed: its payment waits; the other order is not held up.
    assert sent_types(sender) == [(T.ORDER_PLACED, first.id), (T.ORDER_PLACED, other.id)]
    shop.clock.advance(POLICY.first_delay)
    run(shop, sender)
    assert sent_types(sender)[2:] == [(T.ORDER_PLACED, first.id), (T.ORDER_PAID, first.id)]


def test_a_target_failing_for_a_day_is_disabled_and_a_replay_enables_it(
        shop: Shop, sender: FakeWebhookSender) -> None:
    subscription = subscribed(shop)
    shop.place(shop.add_customer(), (shop.add_product(), 1))
    sender.answers = [FAILED_500] * 100
    run(shop, sender)
    while shop.uow.store.subscriptions[subscription].disabled_at is None:
        shop.clock.advance(POLICY.longest_delay)
        run(shop, sender)
    stored = shop.uow.store.subscriptions[subscription]
    assert stored.last_error == "HTTP 500"
    assert shop.clock.now() - stored.disabled_at >= timedelta(0)  # type: ignore[operator]
    tries = len(sender.sent)
    shop.place(shop.add_customer("bob"), (shop.add_product(), 1))
    run(shop, sender)
    assert len(sender.sent) == tries  # nothing goes to a disabled target
    [delivery, *_] = shop.uow.store.deliveries.values()
    assert delivery.status is DeliveryStatus.FAILED
    sender.answers = []
    replay_delivery(shop.uow, shop.clock, subscription, delivery.id or 0)
    run(shop, sender)
    assert shop.uow.store.subscriptions[subscription].disabled_at is None
    assert [s.status for s in shop.uow.store.deliveries.values()] == [
        DeliveryStatus.DELIVERED, DeliveryStatus.DELIVERED]


def test_a_lapsed_lease_makes_the_delivery_due_again(shop: Shop,
                                                     sender: FakeWebhookSender) -> None:
    subscribed(shop)
    shop.place(shop.add_customer(), (shop.add_product(), 1))
    hand_out(shop.uow, shop.clock, ())
    with shop.uow:  # a sender claims it, then dies before sending
        assert len(shop.uow.deliveries.claim_due(shop.clock.now(), 10,
                                                 shop.clock.now() + POLICY.lease)) == 1
        shop.uow.commit()
    assert deliver_due(shop.uow, shop.clock, (), sender=sender, policy=POLICY) == 0
    shop.clock.advance(POLICY.lease)
    assert deliver_due(shop.uow, shop.clock, (), sender=sender, policy=POLICY) == 1
    assert len(sender.sent) == 1


def test_replaying_a_delivery_being_sent_is_a_conflict(shop: Shop) -> None:
    subscription = subscribed(shop)
    shop.place(shop.add_customer(), (shop.add_product(), 1))
    hand_out(shop.uow, shop.clock, ())
    with shop.uow:
        [claim] = shop.uow.deliveries.claim_due(shop.clock.now(), 10,
                                                shop.clock.now() + POLICY.lease)
        shop.uow.commit()
    with pytest.raises(Conflict):
        replay_delivery(shop.uow, shop.clock, subscription, claim.delivery.id or 0)


def test_an_in_process_handler_gets_its_events_and_is_retried_when_it_raises(
        shop: Shop, sender: FakeWebhookSender) -> None:
    heard: list[Event] = []
    failures = [RuntimeError("mail server down")]

    def on_paid(event: Event) -> None:
        if failures:
            raise failures.pop()
        heard.append(event)

    handler = Handler("mail", frozenset({T.ORDER_PAID}), on_paid)
    order = shop.place(shop.add_customer(), (shop.add_product(), 1))
    shop.pay(order)
    run(shop, sender, handler)
    assert heard == []
    shop.clock.advance(POLICY.first_delay)
    run(shop, sender, handler)
    assert [(e.type, e.order_id) for e in heard] == [(T.ORDER_PAID, order.id)]
    [delivery] = shop.uow.store.deliveries.values()
    assert delivery.last_error is None or "mail server down" in delivery.last_error
    assert [a.error for a in shop.uow.store.attempts] == [
        "RuntimeError: mail server down", None]


def test_a_refused_target_is_not_saved(shop: Shop) -> None:
    with pytest.raises(ValidationError) as refused:
        subscribe(shop.uow, shop.clock, FakeTargetCheck(["http://10.0.0.1/"]),
                  Subscribe("http://10.0.0.1/", frozenset()))
    assert set(refused.value.field_errors) == {"url", "events"}
    assert shop.uow.store.subscriptions == {}
