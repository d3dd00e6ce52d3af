"""The SQL repositories of the payment ledger and of idempotency keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from attrs import evolve
from sqlalchemy.engine import Row

from shop_adapters.sqlalchemy.repositories.base import Repository
from shop_adapters.sqlalchemy.tables import (
    idempotency_keys,
    orders,
    payment_events,
)
from shop_core.ledger import ASKED_FOR, Movement, Result
from shop_core.money import Money
from shop_core.payments import CallbackOutcome, PaymentEvent
from shop_core.ports import IdempotencyRecord


def _payment_event(row: Row[Any]) -> PaymentEvent:
    return PaymentEvent(
        transaction_id=row.transaction_id, order_id=row.order_id,
        amount=Money(row.amount, row.currency), success=row.success, pending=row.pending,
        is_reversal=row.is_reversal,
        outcome=CallbackOutcome(row.outcome) if row.outcome is not None else None,
        received_at=row.received_at, id=row.id, movement=Movement(row.movement),
        result=Result(row.result), started_by=row.started_by,
        parent_transaction_id=row.parent_transaction_id, restock=row.restock,
        reason=row.reason, updated_at=row.updated_at)


def _values(event: PaymentEvent) -> dict[str, Any]:
    return {
        "transaction_id": event.transaction_id, "order_id": event.order_id,
        "amount": event.amount.amount, "currency": event.amount.currency,
        "success": event.success, "pending": event.pending,
        "is_reversal": event.is_reversal,
        "outcome": event.outcome.value if event.outcome is not None else None,
        "received_at": event.received_at, "movement": event.movement.value,
        "result": event.result.value, "started_by": event.started_by,
        "parent_transaction_id": event.parent_transaction_id, "restock": event.restock,
        "reason": event.reason, "updated_at": event.updated_at,
    }


_UNSETTLED = payment_events.c.result.in_([r.value for r in Result if not r.is_final])
_BY_ID = sa.select(payment_events).where(payment_events.c.id == sa.bindparam("value"))
_BY_TRANSACTION = sa.select(payment_events).where(
    payment_events.c.transaction_id == sa.bindparam("value"))


class SqlPaymentEventRepository(Repository):
    def add(self, event: PaymentEvent) -> bool:
        return self._insert_ignoring_conflict(payment_events, _values(event),
                                              ["transaction_id"])

    def reserve(self, event: PaymentEvent) -> PaymentEvent:
        event_id = self._conn.execute(
            payment_events.insert().values(_values(event)).returning(payment_events.c.id)
        ).scalar_one()
        return evolve(event, id=event_id)

    def get(self, event_id: int) -> PaymentEvent | None:
        row = self._conn.execute(_BY_ID, {"value": event_id}).first()
        return _payment_event(row) if row is not None else None

    def get_by_transaction_id(self, transaction_id: str) -> PaymentEvent | None:
        row = self._conn.execute(_BY_TRANSACTION, {"value": transaction_id}).first()
        return _payment_event(row) if row is not None else None

    def update(self, event: PaymentEvent) -> bool:
        # Only while the stored entry is unsettled: of an answer and a callback settling it
        # at once, the second waits for the first's row lock, then finds it settled. The
        # unique transaction id refuses a transaction already counted on another entry.
        try:
            with self._conn.begin_nested():
                written = self._conn.execute(
                    payment_events.update()
                    .where(payment_events.c.id == event.id, _UNSETTLED)
                    .values(_values(event)).returning(payment_events.c.id)).first()
        except sa.exc.IntegrityError:
            return False
        return written is not None

    def list_for_order(self, order_id: int) -> list[PaymentEvent]:
        rows = self._conn.execute(
            sa.select(payment_events).where(payment_events.c.order_id == order_id)
            .order_by(payment_events.c.id))
        return [_payment_event(row) for row in rows]

    def unsettled(self, limit: int) -> list[PaymentEvent]:
        # An unsettled movement holds its amount on the order: the few orders holding money
        # (a partial index) lead to their entries, with no scan of the ledger.
        rows = self._conn.execute(
            sa.select(payment_events)
            .join(orders, orders.c.id == payment_events.c.order_id)
            .where(orders.c.held_amount > 0, _UNSETTLED,
                   payment_events.c.movement.in_([m.value for m in ASKED_FOR]))
            .order_by(payment_events.c.id).limit(limit))
        return [_payment_event(row) for row in rows]


class SqlIdempotencyKeyRepository(Repository):
    def get(self, user_id: int, key: str) -> IdempotencyRecord | None:
        row = self._conn.execute(
            sa.select(idempotency_keys)
            .where(idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key)).first()
        if row is None:
            return None
        return IdempotencyRecord(user_id=row.user_id, key=row.key, fingerprint=row.fingerprint,
                                 created_at=row.created_at, status=row.status, body=row.body)

    def add(self, record: IdempotencyRecord) -> bool:
        return self._insert_ignoring_conflict(idempotency_keys, {
            "user_id": record.user_id, "key": record.key, "fingerprint": record.fingerprint,
            "created_at": record.created_at, "status": record.status, "body": record.body,
        }, ["user_id", "key"])

    def complete(self, user_id: int, key: str, status: int, body: str) -> None:
        self._conn.execute(idempotency_keys.update().where(*self._key(user_id, key))
                           .values(status=status, body=body))

    def forget(self, user_id: int, key: str) -> None:
        self._conn.execute(idempotency_keys.delete().where(*self._key(user_id, key)))

    def prune(self, before: datetime, limit: int) -> int:
        oldest = (sa.select(idempotency_keys.c.user_id, idempotency_keys.c.key)
                  .where(idempotency_keys.c.created_at < before)
                  .order_by(idempotency_keys.c.created_at).limit(limit))
        chosen = sa.tuple_(idempotency_keys.c.user_id, idempotency_keys.c.key).in_(oldest)
        return len(self._conn.execute(idempotency_keys.delete().where(chosen)
                                      .returning(idempotency_keys.c.key)).all())

    @staticmethod
    def _key(user_id: int, key: str) -> tuple[sa.ColumnElement[bool], ...]:
        return (idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key)
