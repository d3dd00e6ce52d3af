"""Counts an operator watches, read in one cheap statement when metrics are scraped."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from attrs import frozen

from shop_adapters.sqlalchemy.database import Database
from shop_adapters.sqlalchemy.tables import orders
from shop_core.orders import OrderStatus


@frozen
class OrderBacklog:
    """Paid orders the shop could not honour (to refund by hand), and pending orders already
    past their deadline (which the expiry should have timed out within seconds)."""

    needs_refund: int
    overdue_pending: int


# Two uncorrelated subqueries in one round trip; the overdue count walks the
# (status, expires_at) index.
_BACKLOG = sa.select(
    sa.select(sa.func.count()).select_from(orders).where(orders.c.needs_refund)
    .scalar_subquery(),
    sa.select(sa.func.count()).select_from(orders)
    .where(orders.c.status == OrderStatus.PENDING.value,
           orders.c.expires_at <= sa.bindparam("now")).scalar_subquery(),
)


def order_backlog(database: Database, now: datetime) -> OrderBacklog:
    with database.read_engine.connect() as connection:
        needs_refund, overdue = connection.execute(_BACKLOG, {"now": now}).one()
        connection.rollback()
    return OrderBacklog(needs_refund=int(needs_refund), overdue_pending=int(overdue))
