"""Staff's webhook subscriptions and their deliveries."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime

from attrs import frozen

from shop_core.errors import Conflict, NotFound, Rule, TargetRefused, ValidationError, Violation
from shop_core.events import EventType
from shop_core.pagination import Page, PageRequest
from shop_core.ports import Clock, TargetCheck, UnitOfWork
from shop_core.subscriptions import (
    DESCRIPTION_MAX_LENGTH,
    URL_MAX_LENGTH,
    Attempt,
    Delivery,
    DeliveryQuery,
    DeliveryStatus,
    Subscription,
)


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


@frozen
class Subscribe:
    url: str
    events: frozenset[EventType]
    description: str = ""


def subscribe(uow: UnitOfWork, clock: Clock, targets: TargetCheck, command: Subscribe,
              secret: Callable[[], str] = new_secret) -> Subscription:
    """Register a target for `command.events`. The returned subscription carries its secret,
    which is for the caller to show once. Raises `ValidationError` for a target the shop
    will not send to."""
    errors: dict[str, list[object]] = {}
    if len(command.url) > URL_MAX_LENGTH:
        errors["url"] = [Violation(Rule.TOO_LONG, URL_MAX_LENGTH)]
    else:
        try:
            targets.check(command.url)
        except TargetRefused as refused:
            errors["url"] = [refused.detail]
    if not command.events:
        errors["events"] = [Violation(Rule.NO_ITEMS)]
    if len(command.description) > DESCRIPTION_MAX_LENGTH:
        errors["description"] = [Violation(Rule.TOO_LONG, DESCRIPTION_MAX_LENGTH)]
    if errors:
        raise ValidationError(errors)
    with uow:
        subscription = uow.subscriptions.add(Subscription(
            id=None, url=command.url, events=command.events, description=command.description,
            secret=secret(), created_at=clock.now()))
        uow.commit()
    return subscription


def list_subscriptions(uow: UnitOfWork, page: PageRequest) -> Page[Subscription]:
    with uow:
        return uow.subscriptions.find(page)


def get_subscription(uow: UnitOfWork, subscription_id: int) -> Subscription:
    with uow:
        subscription = uow.subscriptions.get(subscription_id)
    if subscription is None:
        raise NotFound("Webhook not found.")
    return subscription


def unsubscribe(uow: UnitOfWork, subscription_id: int) -> None:
    """Remove the subscription and its deliveries: nothing more is sent to it."""
    with uow:
        if not uow.subscriptions.delete(subscription_id):
            raise NotFound("Webhook not found.")
        uow.commit()


def list_deliveries(uow: UnitOfWork, query: DeliveryQuery
                    ) -> tuple[Page[Delivery], dict[int, list[Attempt]]]:
    """A page of the subscription's deliveries, newest first, with every attempt of each."""
    with uow:
        if uow.subscriptions.get(query.subscription_id) is None:
            raise NotFound("Webhook not found.")
        page = uow.deliveries.find(query)
        return page, uow.deliveries.attempts([d.id for d in page.items if d.id is not None])


def replay_delivery(uow: UnitOfWork, clock: Clock, subscription_id: int,
                    delivery_id: int) -> Delivery:
    """Send the delivery's event again, now, whatever became of it (retries start afresh).
    Replaying to a disabled target enables it again: staff asked for it to be tried."""
    with uow:
        delivery = uow.deliveries.get(delivery_id)
        subscription = uow.subscriptions.get(subscription_id)
        if delivery is None or subscription is None or delivery.subscription_id != subscription_id:
            raise NotFound("Delivery not found.")
        now = clock.now()
        if _in_flight(delivery, now):
            raise Conflict("This delivery is being sent right now.")
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = delivery.due_since = now
        delivery.lease_until = None
        uow.deliveries.save(delivery)
        if subscription.disabled_at is not None:
            uow.subscriptions.set_state(subscription_id, disabled_at=None,
                                        last_error=subscription.last_error)
        uow.commit()
    return delivery


def _in_flight(delivery: Delivery, now: datetime) -> bool:
    return (delivery.status is DeliveryStatus.IN_FLIGHT and delivery.lease_until is not None
            and delivery.lease_until > now)
