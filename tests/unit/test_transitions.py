"""The one move every order status change goes through."""

from __future__ import annotations

import pytest
from attrs import evolve

from shop_core.catalogue import OutOfStock
from shop_core.errors import IllegalTransition
from shop_core.orders import OrderEvent, OrderStatus, StockEffect, Transition
from shop_core.use_cases.catalogue import ProductChanges, update_product
from shop_core.use_cases.transitions import move

from .builders import Shop


def test_a_releasing_move_writes_the_status_and_gives_the_stock_back(shop: Shop) -> None:
    product = shop.add_product(stock=5)
    order = shop.place(shop.add_customer(), (product, 2))
    with shop.uow:
        stored = shop.uow.orders.get(order.id or 0)
        assert stored is not None
        made = move(shop.uow, stored, OrderEvent.EXPIRED, shop.clock.now())
        shop.uow.commit()
    assert made == Transition(OrderStatus.TIMEOUT, StockEffect.RELEASE)
    assert shop.order(order.id).status is OrderStatus.TIMEOUT
    assert shop.stock(product) == 5


def test_a_move_that_lost_the_race_writes_nothing_and_says_so(shop: Shop) -> None:
    product = shop.add_product(stock=5)
    order = shop.place(shop.add_customer(), (product, 2))
    stale = evolve(order)  # read before a concurrent writer paid the order
    shop.pay(order)
    with shop.uow:
        assert move(shop.uow, stale, OrderEvent.EXPIRED, shop.clock.now()) is None
    assert shop.order(order.id).status is OrderStatus.SUCCESS
    assert shop.stock(product) == 3


def test_a_retake_without_the_stock_raises_out_of_stock(shop: Shop) -> None:
    product = shop.add_product(stock=5)
    order = shop.place(shop.add_customer(), (product, 2))
    with shop.uow:
        stored = shop.uow.orders.get(order.id or 0)
        assert stored is not None
        move(shop.uow, stored, OrderEvent.EXPIRED, shop.clock.now())
        shop.uow.commit()
    update_product(shop.uow, shop.clock, product, ProductChanges(stock=1))
    with shop.uow, pytest.raises(OutOfStock):
        timed_out = shop.uow.orders.get(order.id or 0)
        assert timed_out is not None
        move(shop.uow, timed_out, OrderEvent.PAYMENT_SUCCEEDED, shop.clock.now())
    assert shop.order(order.id).status is OrderStatus.TIMEOUT
    assert shop.stock(product) == 1


def test_a_move_the_table_lacks_is_illegal(shop: Shop) -> None:
    order = shop.place(shop.add_customer(), (shop.add_product(), 1))
    shop.pay(order)
    with shop.uow:
        paid = shop.uow.orders.get(order.id or 0)
        assert paid is not None
        with pytest.raises(IllegalTransition):
            move(shop.uow, paid, OrderEvent.EXPIRED, shop.clock.now())
