"""The SQL repositories of the core's ports: the outbox, webhook subscriptions, deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from attrs import evolve
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Row

from shop_adapters.sqlalchemy.repositories.base import PageStatements, Repository
from shop_adapters.sqlalchemy.tables import (
    outbox_events,
    webhook_attempts,
    webhook_deliveries,
    webhook_subscriptions,
)
from shop_core.events import Event, EventType, isoformat
from shop_core.pagination import Page, PageRequest
from shop_core.subscriptions import (
    Attempt,
    Claim,
    Delivery,
    DeliveryQuery,
    DeliveryStatus,
    Subscription,
)

_EVENT_TYPES = {event_type.value: event_type for event_type in EventType}


def _event(row: Row[Any]) -> Event:
    return Event(id=row.id, type=EventType(row.type), created_at=row.created_at,
                 order_id=row.order_id, data=row.data)


def _subscription(row: Row[Any]) -> Subscription:
    return Subscription(
        id=row.id, url=row.url, description=row.description, secret=row.secret,
        # A type this version does not know (written by a newer one) is left out.
        events=frozenset(_EVENT_TYPES[name] for name in row.events.split()
                         if name in _EVENT_TYPES),
        created_at=row.created_at, disabled_at=row.disabled_at, last_error=row.last_error)


def _delivery(row: Row[Any]) -> Delivery:
    return Delivery(
        id=row.id, event_id=row.event_id, event_type=EventType(row.event_type),
        subscriber=row.subscriber, subscription_id=row.subscription_id, order_id=row.order_id,
        status=DeliveryStatus(row.status), created_at=row.created_at,
        next_attempt_at=row.next_attempt_at, due_since=row.due_since, attempts=row.attempts,
        lease_until=row.lease_until, last_status_code=row.last_status_code,
        last_error=row.last_error, delivered_at=row.delivered_at)


def _delivery_state(delivery: Delivery) -> dict[str, Any]:
    return {"status": delivery.status.value, "attempts": delivery.attempts,
            "next_attempt_at": delivery.next_attempt_at,
            "due_since": delivery.due_since or delivery.created_at,
            "lease_until": delivery.lease_until, "last_status_code": delivery.last_status_code,
            "last_error": delivery.last_error, "delivered_at": delivery.delivered_at}


_INSERT_EVENTS = outbox_events.insert()


def _insert_events_from_json() -> sa.Insert:
    """PostgreSQL: a batch of events (the expiry sweep's) in one statement, passed as one
    JSON array of records; not one execution per event. Not an array per column: psycopg
    escapes each element of a text array in Python, which for the events' JSON data was
    most of a 100,000-order sweep. Each record carries its position in the batch, as the
    order of a function's rows is not promised."""
    given = sa.func.json_to_recordset(
        sa.cast(sa.bindparam("events", type_=sa.Text), postgresql.JSON),
    ).table_valued(sa.column("position", sa.Integer), sa.column("id", sa.Text),
                   sa.column("type", sa.Text), sa.column("order_id", sa.Integer),
                   sa.column("created_at", sa.DateTime(timezone=True)),
                   sa.column("data", postgresql.JSON)).render_derived(name="given",
                                                                      with_types=True)
    return outbox_events.insert().from_select(
        ["id", "type", "order_id", "created_at", "data"],
        sa.select(given.c.id, given.c.type, given.c.order_id, given.c.created_at,
                  given.c.data)
        .order_by(given.c.position))  # sequence numbers in the batch's order


def _events_json(events: Sequence[Event]) -> str:
    # orjson: json.dumps took ten times as long over a sweep's batch.
    return orjson.dumps([{"position": position, "id": event.id, "type": event.type.value,
                          "order_id": event.order_id,
                          "created_at": isoformat(event.created_at),
                          "data": dict(event.data)}
                         for position, event in enumerate(events)]).decode()


_INSERT_EVENTS_FROM_JSON = _insert_events_from_json()
_INSERT_DELIVERIES = webhook_deliveries.insert().values(
    event_sequence=sa.select(outbox_events.c.sequence)
    .where(outbox_events.c.id == sa.bindparam("of_event")).scalar_subquery())
_SUBSCRIPTIONS_LISTING = PageStatements.build(webhook_subscriptions, [],
                                              [webhook_subscriptions.c.id.asc()])
_DELIVERIES_LISTING = PageStatements.build(
    webhook_deliveries, [webhook_deliveries.c.subscription_id == sa.bindparam("subscription_id")],
    [webhook_deliveries.c.id.desc()])
_UNSETTLED = (DeliveryStatus.PENDING.value, DeliveryStatus.IN_FLIGHT.value)


class SqlOutbox(Repository):
    def add(self, events: Sequence[Event]) -> None:
        if len(events) > 1 and self._dialect.is_postgresql:
            self._conn.execute(_INSERT_EVENTS_FROM_JSON, {"events": _events_json(events)})
            return
        rows = [{"id": event.id, "type": event.type.value, "order_id": event.order_id,
                 "created_at": event.created_at, "data": dict(event.data),
                 "handed_out_at": None} for event in events]
        if rows:
            # One is a plain INSERT; more, on SQLite (in-process), an executemany.
            self._conn.execute(_INSERT_EVENTS, rows if len(rows) > 1 else rows[0])

    def take(self, limit: int) -> list[Event]:
        waiting = (sa.select(outbox_events).where(outbox_events.c.handed_out_at.is_(None))
                   .order_by(outbox_events.c.sequence).limit(limit))
        if self._dialect.is_postgresql:
            # Several processes hand out at once, each its own batch.
            waiting = waiting.with_for_update(skip_locked=True)
        # SQLite: the unit of work holds the database's write lock, one process at a time.
        return [_event(row) for row in self._conn.execute(waiting)]

    def handed_out(self, event_ids: Sequence[str], now: datetime) -> None:
        self._conn.execute(outbox_events.update()
                           .where(outbox_events.c.id.in_(list(event_ids)))
                           .values(handed_out_at=now))


class SqlSubscriptionRepository(Repository):
    def add(self, subscription: Subscription) -> Subscription:
        subscription_id = self._conn.execute(webhook_subscriptions.insert().values(
            url=subscription.url, description=subscription.description,
            events=" ".join(sorted(event.value for event in subscription.events)),
            secret=subscription.secret, created_at=subscription.created_at,
            disabled_at=subscription.disabled_at, last_error=subscription.last_error,
        ).returning(webhook_subscriptions.c.id)).scalar_one()
        return evolve(subscription, id=subscription_id)

    def get(self, subscription_id: int) -> Subscription | None:
        row = self._conn.execute(sa.select(webhook_subscriptions).where(
            webhook_subscriptions.c.id == subscription_id)).first()
        return _subscription(row) if row is not None else None

    def find(self, page: PageRequest) -> Page[Subscription]:
        rows, count = self._page(_SUBSCRIPTIONS_LISTING, {}, page)
        return Page(items=[_subscription(row) for row in rows], count=count, request=page)

    def every(self) -> list[Subscription]:
        rows = self._conn.execute(sa.select(webhook_subscriptions)
                                  .order_by(webhook_subscriptions.c.id))
        return [_subscription(row) for row in rows]

    def delete(self, subscription_id: int) -> bool:
        # Explicitly, not by the foreign keys' cascade: SQLite enforces it, but a
        # connection without foreign keys on would leave the rows behind.
        deliveries = sa.select(webhook_deliveries.c.id).where(
            webhook_deliveries.c.subscription_id == subscription_id)
        self._conn.execute(webhook_attempts.delete().where(
            webhook_attempts.c.delivery_id.in_(deliveries.scalar_subquery())))
        self._conn.execute(webhook_deliveries.delete().where(
            webhook_deliveries.c.subscription_id == subscription_id))
        result = self._conn.execute(webhook_subscriptions.delete().where(
            webhook_subscriptions.c.id == subscription_id))
        return result.rowcount == 1

    def set_state(self, subscription_id: int, *, disabled_at: datetime | None,
                  last_error: str | None) -> None:
        self._conn.execute(webhook_subscriptions.update()
                           .where(webhook_subscriptions.c.id == subscription_id)
                           .values(disabled_at=disabled_at, last_error=last_error))


class SqlDeliveryRepository(Repository):
    def add(self, deliveries: Sequence[Delivery]) -> None:
        rows = [{"event_id": d.event_id, "of_event": d.event_id,
                 "event_type": d.event_type.value,
                 "subscriber": d.subscriber, "subscription_id": d.subscription_id,
                 "order_id": d.order_id, "created_at": d.created_at, **_delivery_state(d)}
                for d in deliveries]
        if rows:
            self._conn.execute(_INSERT_DELIVERIES, rows)

    def get(self, delivery_id: int) -> Delivery | None:
        row = self._conn.execute(sa.select(webhook_deliveries).where(
            webhook_deliveries.c.id == delivery_id)).first()
        return _delivery(row) if row is not None else None

    def find(self, query: DeliveryQuery) -> Page[Delivery]:
        rows, count = self._page(_DELIVERIES_LISTING,
                                 {"subscription_id": query.subscription_id}, query.page)
        return Page(items=[_delivery(row) for row in rows], count=count, request=query.page)

    def attempts(self, delivery_ids: Sequence[int]) -> dict[int, list[Attempt]]:
        if not delivery_ids:
            return {}
        grouped: dict[int, list[Attempt]] = {}
        rows = self._conn.execute(
            sa.select(webhook_attempts)
            .where(webhook_attempts.c.delivery_id.in_(list(delivery_ids)))
            .order_by(webhook_attempts.c.delivery_id, webhook_attempts.c.id))
        for row in rows:
            grouped.setdefault(row.delivery_id, []).append(Attempt(
                delivery_id=row.delivery_id, attempted_at=row.attempted_at,
                duration_ms=row.duration_ms, status_code=row.status_code, error=row.error))
        return grouped

    def claim_due(self, now: datetime, limit: int, lease_until: datetime) -> list[Claim]:
        d = webhook_deliveries
        earlier = d.alias("earlier")
        due = (
            sa.select(d.c.id)
            .where(
                sa.or_(sa.and_(d.c.status == DeliveryStatus.PENDING.value,
                               d.c.next_attempt_at <= now),
                       # A sender that died: its lease lapsed, the delivery is due again.
                       sa.and_(d.c.status == DeliveryStatus.IN_FLIGHT.value,
                               d.c.lease_until <= now)),
                ~sa.exists().where(
                    webhook_subscriptions.c.id == d.c.subscription_id,
                    webhook_subscriptions.c.disabled_at.is_not(None)),
                # In event order, per subscriber and order: an earlier event still on its
                # way (or waiting for its retry) holds the later ones back.
                ~sa.exists().where(
                    earlier.c.subscriber == d.c.subscriber,
                    earlier.c.order_id == d.c.order_id,
                    earlier.c.event_sequence < d.c.event_sequence,
                    earlier.c.status.in_(_UNSETTLED)),
            )
            .order_by(d.c.event_sequence).limit(limit)
        )
        if self._dialect.is_postgresql:
            # Rows another sender is claiming are skipped, never waited for or taken twice.
            chosen: sa.ColumnElement[bool] = d.c.id == sa.any_(sa.func.array(
                due.with_for_update(of=d, skip_locked=True).scalar_subquery()))
        else:
            chosen = d.c.id.in_(due.scalar_subquery())  # under SQLite's write lock
        claimed = self._conn.execute(
            d.update().where(chosen)
            .values(status=DeliveryStatus.IN_FLIGHT.value, lease_until=lease_until)
            .returning(*d.c)).all()
        if not claimed:
            return []
        events = {row.id: _event(row) for row in self._conn.execute(
            sa.select(outbox_events).where(outbox_events.c.sequence.in_(
                sorted({row.event_sequence for row in claimed}))))}
        wanted = sorted({row.subscription_id for row in claimed
                         if row.subscription_id is not None})
        subscriptions = {row.id: _subscription(row) for row in self._conn.execute(
            sa.select(webhook_subscriptions).where(webhook_subscriptions.c.id.in_(wanted)))
        } if wanted else {}
        return [Claim(_delivery(row), events[row.event_id],
                      subscriptions.get(row.subscription_id))
                for row in sorted(claimed, key=lambda row: row.event_sequence)]

    def settle(self, delivery: Delivery, *, leased_until: datetime) -> bool:
        result = self._conn.execute(
            webhook_deliveries.update()
            .where(webhook_deliveries.c.id == delivery.id,
                   webhook_deliveries.c.status == DeliveryStatus.IN_FLIGHT.value,
                   webhook_deliveries.c.lease_until == leased_until)
            .values(**_delivery_state(delivery)))
        return result.rowcount == 1

    def add_attempt(self, attempt: Attempt) -> None:
        self._conn.execute(webhook_attempts.insert().values(
            delivery_id=attempt.delivery_id, attempted_at=attempt.attempted_at,
            duration_ms=attempt.duration_ms, status_code=attempt.status_code,
            error=attempt.error))

    def save(self, delivery: Delivery) -> None:
        self._conn.execute(webhook_deliveries.update()
                           .where(webhook_deliveries.c.id == delivery.id)
                           .values(**_delivery_state(delivery)))
