"""Who hears about events, and how each delivery to them fares.

A subscriber is either a webhook `Subscription` (an HTTPS target staff registered, with a
secret to sign with) or a `Handler` the process registers in code (the shop's e-mails, or a
service importing the core). Each event an outbox batch holds becomes one `Delivery` per
subscriber that wants it; a delivery is tried until it succeeds, fails for good, or has been
failing for `RetryPolicy.give_up_after`, after which a webhook target is disabled."""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from attrs import define, field, frozen

from shop_core.events import Event, EventHandler, EventType
from shop_core.pagination import PageRequest

URL_MAX_LENGTH = 2000
DESCRIPTION_MAX_LENGTH = 500


@define
class Subscription:
    """A webhook target. `secret` signs every delivery; it is shown to staff once."""

    id: int | None
    url: str
    events: frozenset[EventType]
    description: str
    secret: str
    created_at: datetime
    disabled_at: datetime | None = None
    last_error: str | None = None

    @property
    def subscriber(self) -> str:
        return f"webhook:{self.id}"

    def wants(self, event: Event) -> bool:
        # Disabled or not: a disabled target's deliveries wait until staff replay one.
        return event.type in self.events


@frozen
class Handler:
    """A subscriber in this process: `handle(event)` raises to have the delivery retried."""

    name: str
    events: frozenset[EventType]
    handle: EventHandler

    @property
    def subscriber(self) -> str:
        return f"handler:{self.name}"

    def wants(self, event: Event) -> bool:
        return event.type in self.events


class DeliveryStatus(enum.Enum):
    PENDING = "pending"  # due at `next_attempt_at`
    IN_FLIGHT = "in_flight"  # claimed by a sender until `lease_until`
    DELIVERED = "delivered"
    FAILED = "failed"  # given up: the target refused it, or kept failing


@frozen
class AttemptResult:
    """How one try went. `retryable`: a timeout, a lost connection or a server error, which
    may pass; anything else will not."""

    delivered: bool
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    retryable: bool = False


@frozen
class Attempt:
    delivery_id: int
    attempted_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None


@define
class Delivery:
    """One event on its way to one subscriber."""

    id: int | None
    event_id: str
    event_type: EventType
    subscriber: str
    subscription_id: int | None
    order_id: int | None
    status: DeliveryStatus
    created_at: datetime
    next_attempt_at: datetime
    # Since when it has been trying: its creation, or the replay staff asked for.
    due_since: datetime | None = None
    attempts: int = 0
    lease_until: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


@frozen
class Claim:
    """A delivery a sender holds the lease of, with what it needs to send it."""

    delivery: Delivery
    event: Event
    subscription: Subscription | None


@frozen
class RetryPolicy:
    """Exponential backoff with jitter, for up to a day."""

    first_delay: timedelta = timedelta(seconds=10)
    longest_delay: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(days=1)
    lease: timedelta = timedelta(minutes=5)
    jitter: Callable[[], float] = field(default=random.random, eq=False)

    def next_attempt(self, delivery: Delivery, now: datetime) -> datetime | None:
        """When to try again after `delivery.attempts` failed tries; None: give up."""
        if now - (delivery.due_since or delivery.created_at) >= self.give_up_after:
            return None
        exponent = min(max(delivery.attempts - 1, 0), 20)
        delay: timedelta = min(self.first_delay * 2 ** exponent, self.longest_delay)
        # Half fixed, half random: receivers that failed together do not retry together.
        spread: float = 0.5 + 0.5 * self.jitter()
        return now + delay * spread


@frozen
class DeliveryQuery:
    subscription_id: int
    page: PageRequest = PageRequest()


def deliveries_for(event: Event, subscribers: Iterable[Subscription | Handler],
                   now: datetime) -> list[Delivery]:
    """One pending delivery of `event` to each subscriber that wants it."""
    return [Delivery(id=None, event_id=event.id, event_type=event.type,
                     subscriber=subscriber.subscriber,
                     subscription_id=subscriber.id if isinstance(subscriber, Subscription)
                     else None,
                     order_id=event.order_id, status=DeliveryStatus.PENDING, created_at=now,
                     next_attempt_at=now, due_since=now)
            for subscriber in subscribers if subscriber.wants(event)]
