"""The SQL repositories of the back-office's figures: orders counted and valued over time,
money given back, and the periodic duties' last runs."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from shop_adapters.sqlalchemy.repositories.base import Repository
from shop_adapters.sqlalchemy.tables import duty_runs, order_lines, orders, payment_events
from shop_core.ledger import Movement, Result
from shop_core.money import Money
from shop_core.orders import OrderStatus
from shop_core.reports import DutyRun, HourCount, MoneyBack, PaymentBacklog, StatusTotal

# Each order's value, the sum of its lines, beside its status and currency.
_ORDER_VALUES = (
    sa.select(orders.c.status, orders.c.currency,
              sa.func.sum(order_lines.c.unit_price * order_lines.c.quantity).label("value"))
    .join(order_lines, order_lines.c.order_id == orders.c.id)
    .where(orders.c.created_at >= sa.bindparam("since"))
    .group_by(orders.c.id, orders.c.status, orders.c.currency)
    .subquery("order_values")
)
_STATUS_TOTALS = (
    sa.select(_ORDER_VALUES.c.status, _ORDER_VALUES.c.currency,
              sa.func.count().label("orders"), sa.func.sum(_ORDER_VALUES.c.value).label("value"))
    .group_by(_ORDER_VALUES.c.status, _ORDER_VALUES.c.currency)
    .order_by(_ORDER_VALUES.c.status, _ORDER_VALUES.c.currency)
)
_PENDING = orders.c.status == OrderStatus.PENDING.value
_BACKLOG = sa.select(
    sa.func.count().filter(orders.c.expires_at > sa.bindparam("now")).label("awaiting"),
    sa.func.count().filter(orders.c.expires_at <= sa.bindparam("now")).label("overdue"),
).where(_PENDING)
_MONEY_BACK = (
    sa.select(payment_events.c.currency, sa.func.count().label("entries"),
              sa.func.sum(payment_events.c.amount).label("amount"))
    .where(payment_events.c.movement.in_([Movement.REFUND.value, Movement.VOID.value]),
           payment_events.c.result == Result.SUCCEEDED.value,
           payment_events.c.received_at >= sa.bindparam("since"))
    .group_by(payment_events.c.currency).order_by(payment_events.c.currency)
)
_LAST_RUN = sa.select(duty_runs).where(duty_runs.c.name == sa.bindparam("name"))


class SqlReportRepository(Repository):
    def status_totals(self, since: datetime) -> list[StatusTotal]:
        rows = self._conn.execute(_STATUS_TOTALS, {"since": since})
        return [StatusTotal(OrderStatus(row.status), int(row.orders),
                            Money(int(row.value or 0), row.currency)) for row in rows]

    def money_back(self, since: datetime) -> list[MoneyBack]:
        rows = self._conn.execute(_MONEY_BACK, {"since": since})
        return [MoneyBack(int(row.entries), Money(int(row.amount), row.currency))
                for row in rows]

    def orders_per_hour(self, since: datetime) -> list[HourCount]:
        hour = self._dialect.hour_of(orders.c.created_at).label("hour")
        rows = self._conn.execute(
            sa.select(hour, sa.func.count().label("orders"))
            .where(orders.c.created_at >= since).group_by(hour).order_by(hour))
        return [HourCount(self._dialect.hour_value(row.hour), int(row.orders)) for row in rows]

    def payment_backlog(self, now: datetime) -> PaymentBacklog:
        row = self._conn.execute(_BACKLOG, {"now": now}).one()
        return PaymentBacklog(awaiting_payment=int(row.awaiting), overdue=int(row.overdue))


class SqlDutyLogRepository(Repository):
    def record(self, run: DutyRun) -> None:
        values = {"name": run.name, "finished_at": run.finished_at, "done": run.done}
        statement = self._dialect.upsert(duty_runs, ["name"], values)
        self._conn.execute(statement)

    def last(self, name: str) -> DutyRun | None:
        row = self._conn.execute(_LAST_RUN, {"name": name}).first()
        if row is None:
            return None
        return DutyRun(name=row.name, finished_at=row.finished_at, done=row.done)
