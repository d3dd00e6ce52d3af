"""Handing events out of the outbox and delivering them, outside every transaction.

Two steps, each safe to run in several processes at once:
1. `hand_out`: one transaction takes a batch of the outbox (rows other processes hold are
   skipped), writes a delivery per subscriber that wants each event, and marks the batch
   handed out.
2. `deliver_due`: one transaction leases the due deliveries and commits; then each is sent
   with no transaction open; then each outcome is recorded in a transaction of its own. A
   process that dies mid-way leaves leases that lapse, and the deliveries are sent again:
   at least once, and receivers deduplicate on the event id."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime

from shop_core.ports import Clock, UnitOfWork, WebhookSender
from shop_core.subscriptions import (
    Attempt,
    AttemptResult,
    Claim,
    DeliveryStatus,
    Handler,
    RetryPolicy,
    Subscription,
    deliveries_for,
)

log = logging.getLogger(__name__)

DEFAULT_POLICY = RetryPolicy()
HAND_OUT_BATCH = 500
DELIVERY_BATCH = 20


def hand_out(uow: UnitOfWork, clock: Clock, handlers: Sequence[Handler],
             limit: int = HAND_OUT_BATCH) -> int:
    """Turn up to `limit` outbox events into deliveries; returns how many events."""
    with uow:
        events = uow.outbox.take(limit)
        if not events:
            return 0
        now = clock.now()
        subscribers: list[Subscription | Handler] = [*uow.subscriptions.every(), *handlers]
        deliveries = [delivery for event in events
                      for delivery in deliveries_for(event, subscribers, now)]
        if deliveries:
            uow.deliveries.add(deliveries)
        uow.outbox.handed_out([event.id for event in events], now)
        uow.commit()
    return len(events)


def deliver_due(uow: UnitOfWork, clock: Clock, handlers: Sequence[Handler], *,
                sender: WebhookSender | None = None, policy: RetryPolicy = DEFAULT_POLICY,
                limit: int = DELIVERY_BATCH) -> int:
    """Send up to `limit` due deliveries to `handlers` (in this process) and, through
    `sender`, to webhook subscriptions; returns how many were tried."""
    now = clock.now()
    leased_until = now + policy.lease
    with uow:
        claims = uow.deliveries.claim_due(now, limit, leased_until)
        uow.commit()
    by_name = {handler.subscriber: handler for handler in handlers}
    for claim in claims:
        result = _attempt(claim, sender, by_name)  # no transaction is open here
        _record(uow, clock, policy, claim, result, leased_until)
    return len(claims)


def deliver_everything(uow: UnitOfWork, clock: Clock, handlers: Sequence[Handler], *,
                       sender: WebhookSender | None = None,
                       policy: RetryPolicy = DEFAULT_POLICY) -> int:
    """Hand out the whole outbox and send every delivery due now; returns how many events
    and deliveries it dealt with. What one pass of the delivery duty does, and what a
    service importing the core calls to run its own `handlers`."""
    done = 0
    while (handed := hand_out(uow, clock, handlers)) > 0:
        done += handed
    while (sent := deliver_due(uow, clock, handlers, sender=sender, policy=policy)) > 0:
        done += sent
    return done


def _attempt(claim: Claim, sender: WebhookSender | None, handlers: dict[str, Handler]
             ) -> AttemptResult:
    if claim.subscription is not None:
        if sender is None:
            return AttemptResult(delivered=False, duration_ms=0, retryable=True,
                                 error="No webhook sender runs in this process.")
        return sender.send(claim.subscription, claim.event)
    handler = handlers.get(claim.delivery.subscriber)
    if handler is None:
        return AttemptResult(delivered=False, duration_ms=0,
                             error="No handler of that name runs in this process.")
    started = time.monotonic()
    try:
        handler.handle(claim.event)
    except Exception as error:
        log.warning("Handler %s failed on event %s: %s", handler.name, claim.event.id,
                    type(error).__name__)
        return AttemptResult(delivered=False, duration_ms=_ms_since(started),
                             error=f"{type(error).__name__}: {error}"[:500], retryable=True)
    return AttemptResult(delivered=True, duration_ms=_ms_since(started))


def _record(uow: UnitOfWork, clock: Clock, policy: RetryPolicy, claim: Claim,
            result: AttemptResult, leased_until: datetime) -> None:
    delivery, subscription = claim.delivery, claim.subscription
    now = clock.now()
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = result.status_code, result.error
    delivery.lease_until = None
    given_up = False
    if result.delivered:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
    else:
        retry_at = policy.next_attempt(delivery, now) if result.retryable else None
        given_up = result.retryable and retry_at is None
        if retry_at is not None:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, retry_at
        else:
            delivery.status = DeliveryStatus.FAILED
    with uow:
        uow.deliveries.add_attempt(Attempt(
            delivery_id=delivery.id or 0, attempted_at=now, duration_ms=result.duration_ms,
            status_code=result.status_code, error=result.error))
        if not uow.deliveries.settle(delivery, leased_until=leased_until):
            log.warning("Delivery %s outlived its lease; another sender took it", delivery.id)
        elif subscription is not None and subscription.id is not None:
            if given_up:
                # A day of failures: stop sending until staff replay a delivery.
                log.warning("Webhook %s disabled after failing for %s", subscription.id,
                            policy.give_up_after)
                uow.subscriptions.set_state(subscription.id, disabled_at=now,
                                            last_error=result.error)
            elif (result.error if not result.delivered else None) != subscription.last_error:
                # Written only when it changes: a healthy target costs no extra statement.
                uow.subscriptions.set_state(subscription.id, disabled_at=None,
                                            last_error=None if result.delivered
                                            else result.error)
        uow.commit()


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
