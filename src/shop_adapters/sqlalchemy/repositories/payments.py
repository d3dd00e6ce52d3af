"""The SQL repositories of the payment ledger and of idempotency keys."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from shop_adapters.sqlalchemy.repositories.base import Repository
from shop_adapters.sqlalchemy.tables import (
    idempotency_keys,
    payment_events,
)
from shop_core.money import Money
from shop_core.payments import CallbackOutcome, PaymentEvent
from shop_core.ports import IdempotencyRecord


def _payment_event(row: Row[Any]) -> PaymentEvent:
    return PaymentEvent(
        transaction_id=row.transaction_id, order_id=row.order_id,
        amount=Money(row.amount, row.currency), success=row.success, pending=row.pending,
        is_reversal=row.is_reversal, outcome=CallbackOutcome(row.outcome),
        received_at=row.received_at)


class SqlPaymentEventRepository(Repository):
    def add(self, event: PaymentEvent) -> bool:
        return self._insert_ignoring_conflict(payment_events, {
            "transaction_id": event.transaction_id, "order_id": event.order_id,
            "amount": event.amount.amount, "currency": event.amount.currency,
            "success": event.success, "pending": event.pending,
            "is_reversal": event.is_reversal, "outcome": event.outcome.value,
            "received_at": event.received_at,
        }, ["transaction_id"])

    def list_for_order(self, order_id: int) -> list[PaymentEvent]:
        rows = self._conn.execute(
            sa.select(payment_events).where(payment_events.c.order_id == order_id)
            .order_by(payment_events.c.id))
        return [_payment_event(row) for row in rows]


class SqlIdempotencyKeyRepository(Repository):
    def get(self, user_id: int, key: str) -> IdempotencyRecord | None:
        row = self._conn.execute(
            sa.select(idempotency_keys)
            .where(idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key)).first()
        if row is None:
            return None
        return IdempotencyRecord(user_id=row.user_id, key=row.key, fingerprint=row.fingerprint,
                                 order_id=row.order_id, created_at=row.created_at)

    def add(self, record: IdempotencyRecord) -> bool:
        return self._insert_ignoring_conflict(idempotency_keys, {
            "user_id": record.user_id, "key": record.key, "fingerprint": record.fingerprint,
            "order_id": record.order_id, "created_at": record.created_at,
        }, ["user_id", "key"])
