"""Counts an operator watches, read in one cheap statement when metrics are scraped."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from attrs import frozen

from shop_adapters.sqlalchemy.database import Database
from shop_adapters.sqlalchemy.tables import (
    orders,
    outbox_events,
    webhook_deliveries,
    webhook_subscriptions,
)
from shop_core.orders import OrderStatus
from shop_core.subscriptions import DeliveryStatus


@frozen
class OrderBacklog:
    """Paid orders the shop could not honour (to refund by hand), and pending orders already
    past their deadline (which the expiry should have timed out within seconds)."""

    needs_refund: int
    overdue_pending: int
    # Events not yet handed to their subscribers, deliveries due and not yet sent (both
    # near zero while the delivery duty keeps up), and targets disabled after a day failing.
    events_waiting: int = 0
    deliveries_due: int = 0
    webhooks_disabled: int = 0


# Uncorrelated subqueries in one round trip; the overdue count walks the (status,
# expires_at) index, the next two the outbox's and the deliveries' own.
_BACKLOG = sa.select(
    sa.select(sa.func.count()).select_from(orders).where(orders.c.needs_refund)
    .scalar_subquery(),
    sa.select(sa.func.count()).select_from(orders)
    .where(orders.c.status == OrderStatus.PENDING.value,
           orders.c.expires_at <= sa.bindparam("now")).scalar_subquery(),
    sa.select(sa.func.count()).select_from(outbox_events)
    .where(outbox_events.c.handed_out_at.is_(None)).scalar_subquery(),
    sa.select(sa.func.count()).select_from(webhook_deliveries)
    .where(webhook_deliveries.c.status == DeliveryStatus.PENDING.value,
           webhook_deliveries.c.next_attempt_at <= sa.bindparam("now")).scalar_subquery(),
    sa.select(sa.func.count()).select_from(webhook_subscriptions)
    .where(webhook_subscriptions.c.disabled_at.is_not(None)).scalar_subquery(),
)


def order_backlog(database: Database, now: datetime) -> OrderBacklog:
    with database.read_engine.connect() as connection:
        needs_refund, overdue, waiting, due, disabled = connection.execute(
            _BACKLOG, {"now": now}).one()
        connection.rollback()
    return OrderBacklog(needs_refund=int(needs_refund), overdue_pending=int(overdue),
                        events_waiting=int(waiting), deliveries_due=int(due),
                        webhooks_disabled=int(disabled))
