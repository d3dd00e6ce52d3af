from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from shop_core.errors import IllegalTransition
from shop_core.money import Money
from shop_core.orders import (
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    StockEffect,
    new_order,
    transition_for,
)

from .builders import egp

S, E, FX = OrderStatus, OrderEvent, StockEffect

# The contract, written out independently of the table in orders.py.
LEGAL = {
    (S.PENDING, E.PAYMENT_SUCCEEDED): (S.SUCCESS, FX.KEEP),
    (S.PENDING, E.PAYMENT_DECLINED): (S.FAILED, FX.RELEASE),
    (S.PENDING, E.GATEWAY_FAILED): (S.FAILED, FX.RELEASE),
    (S.PENDING, E.EXPIRED): (S.TIMEOUT, FX.RELEASE),
    (S.TIMEOUT, E.PAYMENT_SUCCEEDED): (S.SUCCESS, FX.RETAKE),
    (S.FAILED, E.PAYMENT_SUCCEEDED): (S.SUCCESS, FX.RETAKE),
    (S.PENDING, E.CANCEL): (S.CANCELLED, FX.RELEASE),
    (S.CANCELLED, E.PAYMENT_SUCCEEDED): (S.SUCCESS, FX.RETAKE),
}
ILLEGAL = sorted(set(itertools.product(S, E)) - set(LEGAL), key=str)


def an_order(status: OrderStatus) -> Order:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    order = new_order(7, [OrderLine(3, "Mug", egp("10.00"), 2),
                          OrderLine(1, "Cup", egp("2.50"), 4)], now, now + timedelta(minutes=10))
    order.status = status
    return order


@pytest.mark.parametrize(("move", "result"), LEGAL.items(), ids=str)
def test_every_legal_move_reaches_its_target_with_its_stock_effect(
        move: tuple[OrderStatus, OrderEvent], result: tuple[OrderStatus, StockEffect]) -> None:
    status, event = move
    transition = transition_for(status, event)
    assert (transition.target, transition.stock) == result
    order = an_order(status)
    later = order.updated_at + timedelta(seconds=5)
    assert order.can(event)
    assert order.apply(event, later) == transition
    assert order.status is result[0]
    assert order.updated_at == later


@pytest.mark.parametrize("move", ILLEGAL, ids=str)
def test_every_illegal_move_raises_and_leaves_the_order_alone(
        move: tuple[OrderStatus, OrderEvent]) -> None:
    status, event = move
    with pytest.raises(IllegalTransition):
        transition_for(status, event)
    order = an_order(status)
    before = (order.status, order.updated_at)
    assert not order.can(event)
    with pytest.raises(IllegalTransition):
        order.apply(event, order.updated_at + timedelta(seconds=5))
    assert (order.status, order.updated_at) == before


def test_terminal_success_takes_no_event() -> None:
    assert all((S.SUCCESS, event) not in LEGAL for event in E)
    assert len(ILLEGAL) == len(S) * len(E) - len(LEGAL)


def test_stock_is_held_only_while_pending_or_paid() -> None:
    assert {status for status in S if status.holds_stock} == {S.PENDING, S.SUCCESS}


def test_releasing_moves_leave_a_status_that_holds_no_stock() -> None:
    for (_, _), (target, effect) in LEGAL.items():
        if effect is FX.RELEASE:
            assert not target.holds_stock
        if effect is FX.RETAKE:
            assert target.holds_stock


def test_new_order_is_pending_with_its_total_and_currency() -> None:
    order = an_order(S.PENDING)
    assert order.status is S.PENDING and not order.needs_refund and order.payment is None
    assert order.total == Money(3000, "EGP")
    assert order.currency == "EGP"
    assert [line.line_total for line in order.lines] == [egp("20.00"), egp("10.00")]


def test_stock_lines_come_in_product_id_order() -> None:
    assert [(line.product_id, line.quantity) for line in an_order(S.PENDING).stock_lines] == [
        (1, 4), (3, 2)]


def test_order_is_overdue_only_when_pending_at_or_after_its_deadline() -> None:
    order = an_order(S.PENDING)
    assert not order.is_overdue(order.expires_at - timedelta(microseconds=1))
    assert order.is_overdue(order.expires_at)
    for status in (S.SUCCESS, S.FAILED, S.TIMEOUT):
        assert not an_order(status).is_overdue(order.expires_at + timedelta(days=1))


def test_flag_for_refund_keeps_the_status() -> None:
    order = an_order(S.TIMEOUT)
    later = order.updated_at + timedelta(seconds=1)
    order.flag_for_refund(later)
    assert order.needs_refund and order.status is S.TIMEOUT and order.updated_at == later
