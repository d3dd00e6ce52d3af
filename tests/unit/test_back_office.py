"""What the back-office reads: the dashboard and staff sessions."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from shop_core.errors import AuthenticationFailed, PermissionDenied
from shop_core.orders import OrderStatus
from shop_core.reports import PaymentBacklog
from shop_core.use_cases import accounts
from shop_core.use_cases.back_office import CHART_HOURS, dashboard
from shop_core.use_cases.catalogue import adjust_stock
from shop_core.use_cases.expiry import expire_overdue_orders

from .builders import TIMEOUT, Shop


def test_the_dashboard_counts_today_the_week_the_backlog_and_stock(shop: Shop) -> None:
    shop.clock.now = lambda: datetime(2026, 12, 3, 15, 30, tzinfo=UTC)  # type: ignore[method-assign]
    mug, lamp = shop.add_product(stock=10), shop.add_product(name="Lamp", stock=2)
    adjust_stock(shop.uow, shop.clock, shop.add_product(name="Gone", stock=1), -1, "Lost",
                 by=1, request_key="k")
    alice = shop.add_customer()
    shop.place(alice, (mug, 2))
    shop.place(alice, (lamp, 1))
    board = dashboard(shop.uow, shop.clock)
    assert [(t.status, t.count, t.value.format()) for t in board.today] == [
        (OrderStatus.PENDING, 2, "300.00")]
    assert board.this_week == board.today
    assert board.backlog == PaymentBacklog(awaiting_payment=2, overdue=0)
    assert [p.name for p in board.out_of_stock.items] == ["Gone"]
    assert [p.name for p in board.low_stock.items] == ["Lamp"]
    assert len(board.orders_per_hour) == CHART_HOURS
    assert board.orders_per_hour[-1].count == 2 and board.last_sweep is None


def test_the_dashboard_shows_when_the_sweep_last_ran_and_what_is_overdue(shop: Shop) -> None:
    mug = shop.add_product()
    shop.place(shop.add_customer(), (mug, 1))
    shop.clock.advance(TIMEOUT + timedelta(seconds=1))
    assert dashboard(shop.uow, shop.clock).backlog.overdue == 1
    expire_overdue_orders(shop.uow, shop.clock)
    board = dashboard(shop.uow, shop.clock)
    assert board.backlog.overdue == 0
    assert board.last_sweep is not None and board.last_sweep.done == 1
    assert board.last_sweep.finished_at == shop.clock.now()


def test_a_customer_cannot_open_a_staff_session(shop: Shop) -> None:
    shop.add_customer("alice")
    with pytest.raises(PermissionDenied):
        accounts.authenticate_staff(shop.uow, shop.hasher, "alice", "correct horse")
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate_staff(shop.uow, shop.hasher, "alice", "wrong")


def test_a_staff_session_ends_when_it_expires_or_is_signed_out(shop: Shop) -> None:
    user_id = shop.add_customer("clerk")
    with shop.uow:
        clerk = shop.uow.users.get(user_id)
        assert clerk is not None
        clerk.is_staff = True
        shop.uow.users.update(clerk)
        shop.uow.commit()

    ids = itertools.count()

    def session() -> str:
        return accounts.start_session(shop.uow, shop.clock, user_id, timedelta(hours=1),
                                      lambda: f"id-{next(ids)}").jti

    lapsing, ended = session(), session()
    assert accounts.staff_session_user(shop.uow, shop.clock, lapsing) is not None
    accounts.end_session(shop.uow, shop.clock, ended)
    assert accounts.staff_session_user(shop.uow, shop.clock, ended) is None
    shop.clock.advance(timedelta(hours=1))
    assert accounts.staff_session_user(shop.uow, shop.clock, lapsing) is None


def test_the_dashboard_shows_when_reconciliation_last_ran(shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    order = shop.place(shop.add_customer(), (pid, 1))
    assert order.id is not None
    shop.gateway.payments[order.id] = shop.callback(order, transaction_id="tx-lost")
    assert dashboard(shop.uow, shop.clock).last_reconciliation is None
    shop.clock.advance(TIMEOUT)
    shop.reconciler().reconcile()
    asked = dashboard(shop.uow, shop.clock).last_reconciliation
    assert asked is not None and (asked.finished_at, asked.done) == (shop.clock.now(), 1)
