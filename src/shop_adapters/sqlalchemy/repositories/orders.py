"""The SQL repositories of the core's ports: orders and their lines."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from attrs import evolve
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Row

from shop_adapters.sqlalchemy.repositories.base import PageStatements, Repository
from shop_adapters.sqlalchemy.tables import (
    order_lines,
    orders,
)
from shop_core.ledger import Balance
from shop_core.money import Money
from shop_core.orders import InquirySelection, Order, OrderLine, OrderQuery, OrderStatus
from shop_core.pagination import Page
from shop_core.payments import PaymentIntention, PaymentState


def _order(row: Row[Any], lines: Iterable[Row[Any]]) -> Order:
    payment = None
    if row.intention_id is not None:
        payment = PaymentIntention(intention_id=row.intention_id,
                                   checkout_url=row.checkout_url,
                                   provider_order_id=row.provider_order_id)
    return Order(
        id=row.id, user_id=row.user_id, status=OrderStatus(row.status),
        lines=tuple(OrderLine(line.product_id, line.name, Money(line.unit_price, row.currency),
                              line.quantity) for line in lines),
        currency=row.currency, expires_at=row.expires_at, created_at=row.created_at,
        updated_at=row.updated_at, payment=payment, needs_refund=row.needs_refund,
        balance=Balance(row.paid_amount, row.refunded_amount, row.held_amount),
        payment_state=PaymentState(row.payment_state) if row.payment_state else None,
        payment_reference=row.payment_reference, payment_checked_at=row.payment_checked_at,
        payment_method=row.payment_method,
    )


def _balance_values(balance: Balance) -> dict[str, int]:
    return {"paid_amount": balance.paid, "refunded_amount": balance.refunded,
            "held_amount": balance.held}


def _payment_values(payment: PaymentIntention | None) -> dict[str, str | None]:
    # `client_secret` and `special_reference` are Paymob's, which the core no longer carries
    # (the checkout URL holds the one, the order id makes the other): new rows leave them
    # empty until a migration drops them.
    return {
        "intention_id": payment.intention_id if payment else None,
        "client_secret": None,
        "checkout_url": payment.checkout_url if payment else None,
        "special_reference": None,
        "provider_order_id": payment.provider_order_id if payment else None,
    }


@functools.cache
def _order_listing(*, by_user: bool, by_status: bool, by_refund: bool, placed_from: bool = False,
                   placed_before: bool = False, by_reference: bool = False,
                   by_id: bool = False) -> PageStatements:
    conditions: list[sa.ColumnElement[bool]] = []
    if by_user:
        conditions.append(orders.c.user_id == sa.bindparam("user_id"))
    if by_status:
        conditions.append(orders.c.status == sa.bindparam("status"))
    if by_refund:
        conditions.append(orders.c.needs_refund == sa.bindparam("needs_refund"))
    if placed_from:
        conditions.append(orders.c.created_at >= sa.bindparam("placed_from"))
    if placed_before:
        conditions.append(orders.c.created_at < sa.bindparam("placed_before"))
    if by_reference:
        reference = sa.bindparam("reference", type_=sa.String)
        named = [orders.c.provider_order_id == reference, orders.c.intention_id == reference]
        if by_id:
            named.append(orders.c.id == sa.bindparam("reference_id", type_=sa.Integer))
        conditions.append(sa.or_(*named))
    return PageStatements.build(orders, conditions,
                                 [orders.c.created_at.desc(), orders.c.id.desc()])


# Order ids are integers the database can hold; a longer string of digits names no order.
_MAX_ID_DIGITS = 18


# The inserts and updates below take their columns from the names of the parameters they are
# run with (SQLAlchemy's INSERT/UPDATE without .values()).
_INSERT_ORDER = orders.insert().returning(orders.c.id)
_INSERT_ORDER_LINES = order_lines.insert()


def _insert_order_with_lines() -> sa.Select[int]:
    """PostgreSQL: an order and its lines in one statement, the lines passed as arrays in
    cart order. One round trip instead of two while the reservation's transaction is open."""
    new_order = (orders.insert()
                 .values({column.name: sa.bindparam(column.name)
                          for column in orders.c if column is not orders.c.id})
                 .returning(orders.c.id).cte("new_order"))
    line = sa.func.unnest(
        sa.bindparam("product_ids", type_=postgresql.ARRAY(sa.Integer)),
        sa.bindparam("names", type_=postgresql.ARRAY(sa.String)),
        sa.bindparam("unit_prices", type_=postgresql.ARRAY(sa.BigInteger)),
        sa.bindparam("quantities", type_=postgresql.ARRAY(sa.Integer)),
    ).table_valued("product_id", "name", "unit_price", "quantity",
                   with_ordinality="position").render_derived(name="line")
    new_lines = order_lines.insert().from_select(
        ["order_id", "product_id", "name", "unit_price", "quantity"],
        sa.select(new_order.c.id, line.c.product_id, line.c.name, line.c.unit_price,
                  line.c.quantity)
        .select_from(new_order.join(line, sa.true()))
        .order_by(line.c.position),  # line ids in cart order
    ).cte("new_lines")
    return sa.select(new_order.c.id).add_cte(new_lines)


_INSERT_ORDER_WITH_LINES = _insert_order_with_lines()
_ORDER_BY = {column.name: sa.select(orders).where(column == sa.bindparam("value")).limit(1)
             for column in (orders.c.id, orders.c.provider_order_id)}
_LINES_OF_ORDERS = (sa.select(order_lines)
                    .where(order_lines.c.order_id.in_(sa.bindparam("order_ids", expanding=True)))
                    .order_by(order_lines.c.order_id, order_lines.c.id))
# Conditional on the status and the balance the writer read (see `update`).
_MOVE_ORDER = (orders.update()
               .where(orders.c.id == sa.bindparam("order_id"),
                      orders.c.status == sa.bindparam("expected_status"),
                      orders.c.paid_amount == sa.bindparam("read_paid"),
                      orders.c.refunded_amount == sa.bindparam("read_refunded"),
                      orders.c.held_amount == sa.bindparam("read_held")))
_ATTACH_PAYMENT = orders.update().where(orders.c.id == sa.bindparam("order_id"))
_NOTE_PAYMENT_CHECKED = (orders.update()
                         .where(orders.c.id.in_(sa.bindparam("order_ids", expanding=True)))
                         .values(payment_checked_at=sa.bindparam("now")))
_PENDING = OrderStatus.PENDING.value
_SETTLED_UNPAID = (OrderStatus.TIMEOUT.value, OrderStatus.CANCELLED.value)


@functools.cache
def _due_for_inquiry(*, with_settled: bool) -> sa.Select[Any]:
    """`InquirySelection.wants` in SQL. The deadline conditions walk
    ix_orders_status_expires_at: a timed-out order's deadline is when it timed out, and a
    cancelled one's lies after its cancellation, so `expires_at >= since` keeps the scan to
    the window before `updated_at` decides."""
    checked = orders.c.payment_checked_at
    now: sa.BindParameter[datetime] = sa.bindparam("now")
    rested = sa.or_(checked.is_(None), checked <= sa.bindparam("recheck_before"))
    overdue = sa.and_(orders.c.status == _PENDING, orders.c.expires_at <= now,
                      sa.or_(checked.is_(None), checked < orders.c.expires_at))
    due_soon = sa.and_(orders.c.status == _PENDING, orders.c.expires_at > now,
                       orders.c.expires_at <= sa.bindparam("due_before"), rested)
    # Money held for a refund, void or capture whose outcome the provider has not told
    # (the partial index ix_orders_held_amount finds these few).
    held = sa.and_(orders.c.held_amount > 0, rested)
    wanted = [overdue, due_soon, held]
    if with_settled:
        since: sa.BindParameter[datetime] = sa.bindparam("since")
        wanted.append(sa.and_(orders.c.status.in_(_SETTLED_UNPAID),
                              orders.c.expires_at >= since, orders.c.updated_at >= since,
                              rested))
    return (sa.select(orders)
            .where(orders.c.intention_id.is_not(None), sa.or_(*wanted))
            .order_by(sa.case((orders.c.status == _PENDING, 0), else_=1),
                      orders.c.expires_at, orders.c.id)
            .limit(sa.bindparam("limit")))



def _status_among(statuses: Sequence[OrderStatus]) -> sa.ColumnElement[bool]:
    if len(statuses) == 1:
        return orders.c.status == statuses[0].value
    return orders.c.status.in_([status.value for status in statuses])


class SqlOrderRepository(Repository):
    def add(self, order: Order) -> Order:
        values = {
            "user_id": order.user_id, "status": order.status.value, "currency": order.currency,
            "expires_at": order.expires_at, "needs_refund": order.needs_refund,
            "created_at": order.created_at, "updated_at": order.updated_at,
            "payment_state": None, "payment_reference": None, "payment_checked_at": None,
            "payment_method": order.payment_method, **_payment_values(order.payment),
            **_balance_values(order.balance),
        }
        if self._dialect.is_postgresql:
            order_id = self._conn.execute(_INSERT_ORDER_WITH_LINES, {
                **values,
                "product_ids": [line.product_id for line in order.lines],
                "names": [line.name for line in order.lines],
                "unit_prices": [line.unit_price.amount for line in order.lines],
                "quantities": [line.quantity for line in order.lines],
            }).scalar_one()
            return evolve(order, id=order_id)
        order_id = self._conn.execute(_INSERT_ORDER, values).scalar_one()
        if order.lines:
            self._conn.execute(_INSERT_ORDER_LINES, [
                {"order_id": order_id, "product_id": line.product_id, "name": line.name,
                 "unit_price": line.unit_price.amount, "quantity": line.quantity}
                for line in order.lines
            ])
        return evolve(order, id=order_id)

    def get(self, order_id: int) -> Order | None:
        return self._first("id", order_id)

    def get_by_provider_order_id(self, provider_order_id: str) -> Order | None:
        return self._first("provider_order_id", provider_order_id)

    def find(self, query: OrderQuery) -> Page[Order]:
        reference = query.reference
        by_id = reference is not None and reference.isascii() and reference.isdigit() \
            and len(reference) <= _MAX_ID_DIGITS
        statements = _order_listing(by_user=query.user_id is not None,
                                    by_status=query.status is not None,
                                    by_refund=query.needs_refund is not None,
                                    placed_from=query.placed_from is not None,
                                    placed_before=query.placed_before is not None,
                                    by_reference=reference is not None, by_id=by_id)
        values = {"user_id": query.user_id, "needs_refund": query.needs_refund,
                  "status": query.status.value if query.status is not None else None,
                  "placed_from": query.placed_from, "placed_before": query.placed_before,
                  "reference": reference,
                  "reference_id": int(reference) if by_id and reference else None}
        rows, count = self._page(statements, values, query.page)
        lines = self._lines_of([row.id for row in rows])
        return Page(items=[_order(row, lines.get(row.id, [])) for row in rows],
                    count=count, request=query.page)

    def update(self, order: Order, *, expected_status: OrderStatus,
               expected_balance: Balance | None = None) -> bool:
        # Conditional on the status and balance this writer read: of several racing writers
        # (expiry, callbacks, refunds, the gateway-failure path) exactly one moves the
        # order, so its stock is released or re-taken at most once, and no amount is held
        # or counted twice. On PostgreSQL a writer that waited for another's row lock
        # re-checks the condition against the committed row.
        read = expected_balance or order.balance
        result = self._conn.execute(_MOVE_ORDER, {
            "order_id": order.id, "expected_status": expected_status.value,
            "status": order.status.value, "needs_refund": order.needs_refund,
            "payment_state": order.payment_state.value if order.payment_state else None,
            "payment_reference": order.payment_reference,
            "updated_at": order.updated_at, **_balance_values(order.balance),
            "read_paid": read.paid, "read_refunded": read.refunded, "read_held": read.held})
        if result.rowcount != 1:
            return False
        if expected_status is OrderStatus.PENDING and order.status is OrderStatus.TIMEOUT:
            self._uow.movements.expiry_lags.append(
                (order.updated_at - order.expires_at).total_seconds())
        return True

    def attach_payment(self, order_id: int, payment: PaymentIntention, now: datetime) -> None:
        self._conn.execute(_ATTACH_PAYMENT,
                           {"order_id": order_id, "updated_at": now, **_payment_values(payment)})

    def due_for_inquiry(self, selection: InquirySelection) -> list[Order]:
        statement = _due_for_inquiry(with_settled=selection.since is not None)
        rows = self._conn.execute(statement, {
            "now": selection.now, "due_before": selection.now + selection.lead,
            "since": selection.since, "recheck_before": selection.now - selection.recheck,
            "limit": selection.limit}).all()
        lines = self._lines_of([row.id for row in rows])
        return [_order(row, lines.get(row.id, [])) for row in rows]

    def note_payment_checked(self, order_ids: Sequence[int], now: datetime) -> None:
        if order_ids:
            self._conn.execute(_NOTE_PAYMENT_CHECKED,
                               {"order_ids": list(order_ids), "now": now})

    def expire_overdue(self, now: datetime, limit: int, target: OrderStatus,
                       grace: timedelta = timedelta(0),
                       among: Sequence[OrderStatus] = (OrderStatus.PENDING,),
                       ) -> list[Order]:
        postgres = self._dialect.is_postgresql
        # Earliest deadline first within each status, in the order of
        # ix_orders_status_expires_at (status, expires_at), so each batch walks the index
        # and stops after `limit` rows. Ordering by id walked the primary key past every
        # order already expired: quadratic over a large backlog. So did ordering by the
        # deadline alone once two statuses expire: a seq scan and a sort of every overdue
        # order, per batch. On SQLite the index ends with the rowid, so id breaks ties for
        # free. On PostgreSQL it does not, and under FOR UPDATE (LockRows sits between LIMIT
        # and the sort, so no top-N sort) a sort by id became that scan and sort again; ties
        # come in index (heap) order there instead, which is as fair.
        order = [orders.c.status, orders.c.expires_at]
        if not postgres:
            order.append(orders.c.id)
        # `Order.may_expire`: an opened payment waits for the provider's answer, or grace.
        checked = orders.c.payment_checked_at
        answered = sa.or_(orders.c.intention_id.is_(None), checked >= orders.c.expires_at,
                          orders.c.expires_at <= now - grace)
        overdue = (
            sa.select(orders.c.id)
            .where(_status_among(among), orders.c.expires_at <= now,
                   orders.c.held_amount == 0, answered)
            .order_by(*order).limit(limit)
        )
        if postgres:
            # Rows another transaction holds (a callback, another sweep) are skipped, not
            # waited for: concurrent sweeps share the work and expire each order once.
            # `id = ANY(ARRAY(subquery))` makes the batch an init-plan probed through the
            # primary key; `id IN (subquery)` gets a hash semi-join over a full scan of
            # orders, which made a 100,000-order sweep several times slower.
            chosen: sa.ColumnElement[bool] = orders.c.id == sa.any_(
                sa.func.array(overdue.with_for_update(skip_locked=True).scalar_subquery()))
        else:
            # SQLite: the unit of work holds the database's write lock (BEGIN IMMEDIATE), so
            # nobody else can touch these rows until commit.
            chosen = orders.c.id.in_(overdue.scalar_subquery())
        # Whole rows and lines come back: the orders' events carry them (one statement each,
        # as before, just wider).
        expired = sorted(self._conn.execute(
            orders.update().where(chosen).values(status=target.value, payment_state=None,
                                                 updated_at=now)
            .returning(*orders.c)).all(), key=lambda row: row.id)
        if not expired:
            return []
        self._uow.movements.expiry_lags.extend(
            (now - row.expires_at).total_seconds() for row in expired)
        lines: dict[int, list[Row[Any]]] = {}
        for line in self._conn.execute(
                sa.select(order_lines)
                .where(self._dialect.among(order_lines.c.order_id, [row.id for row in expired]))
                .order_by(order_lines.c.order_id, order_lines.c.id)):
            lines.setdefault(line.order_id, []).append(line)
        return [_order(row, lines.get(row.id, [])) for row in expired]

    def _first(self, column: str, value: object) -> Order | None:
        row = self._conn.execute(_ORDER_BY[column], {"value": value}).first()
        if row is None:
            return None
        return _order(row, self._lines_of([row.id]).get(row.id, []))

    def _lines_of(self, order_ids: list[int]) -> dict[int, list[Row[Any]]]:
        """Every line of these orders in one query, grouped by order."""
        if not order_ids:
            return {}
        grouped: dict[int, list[Row[Any]]] = {}
        rows = self._conn.execute(_LINES_OF_ORDERS, {"order_ids": order_ids})
        for row in rows:
            grouped.setdefault(row.order_id, []).append(row)
        return grouped
