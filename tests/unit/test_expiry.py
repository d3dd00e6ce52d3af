from __future__ import annotations

from datetime import timedelta

from shop_core.orders import OrderStatus
from shop_core.use_cases.expiry import expire_order, expire_overdue_orders

from .builders import TIMEOUT, Shop


def test_order_is_not_expired_before_its_deadline(shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    order = shop.place(shop.add_customer(), (pid, 2))
    assert order.id is not None
    shop.clock.advance(TIMEOUT - timedelta(seconds=1))
    assert not expire_order(shop.uow, shop.clock, order.id)
    assert shop.order(order.id).status is OrderStatus.PENDING
    assert shop.stock(pid) == 3


def test_overdue_order_times_out_and_its_stock_comes_back_once(shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    order = shop.place(shop.add_customer(), (pid, 2))
    assert order.id is not None
    shop.clock.advance(TIMEOUT)
    assert expire_order(shop.uow, shop.clock, order.id)
    stored = shop.order(order.id)
    assert stored.status is OrderStatus.TIMEOUT and stored.updated_at == shop.clock.now()
    assert shop.stock(pid) == 5
    assert not expire_order(shop.uow, shop.clock, order.id)
    assert expire_overdue_orders(shop.uow, shop.clock) == 0
    assert shop.stock(pid) == 5


def test_expire_order_of_unknown_id_does_nothing(shop: Shop) -> None:
    assert not expire_order(shop.uow, shop.clock, 404)


def test_failed_order_is_never_expired(shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    order = shop.place(shop.add_customer(), (pid, 2))
    assert order.id is not None
    shop.pay(order, success=False)
    shop.clock.advance(TIMEOUT)
    assert not expire_order(shop.uow, shop.clock, order.id)
    assert expire_overdue_orders(shop.uow, shop.clock) == 0
    assert shop.order(order.id).status is OrderStatus.FAILED
    assert shop.stock(pid) == 5


def test_sweep_expires_only_overdue_pending_orders(shop: Shop) -> None:
    pid = shop.add_product(stock=20)
    user = shop.add_customer()
    early = shop.place(user, (pid, 1))
    paid = shop.place(user, (pid, 2))
    shop.pay(paid)
    declined = shop.place(user, (pid, 3))
    shop.pay(declined, success=False)
    shop.clock.advance(timedelta(minutes=5))
    late = shop.place(user, (pid, 4))
    shop.clock.advance(TIMEOUT - timedelta(minutes=5))

    assert expire_overdue_orders(shop.uow, shop.clock) == 1
    assert shop.order(early.id).status is OrderStatus.TIMEOUT
    assert shop.order(paid.id).status is OrderStatus.SUCCESS
    assert shop.order(declined.id).status is OrderStatus.FAILED
    assert shop.order(late.id).status is OrderStatus.PENDING
    assert shop.stock(pid) == 20 - 2 - 4


def test_sweep_works_through_several_batches(shop: Shop) -> None:
    mug, cup = shop.add_product("Mug", stock=20), shop.add_product("Cup", stock=20)
    user = shop.add_customer()
    for quantity in range(1, 6):
        shop.place(user, (mug, quantity), (cup, 1))
    shop.clock.advance(TIMEOUT)
    assert expire_overdue_orders(shop.uow, shop.clock, batch_size=2) == 5
    assert (shop.stock(mug), shop.stock(cup)) == (20, 20)
    assert {o.status for o in shop.uow.store.orders.values()} == {OrderStatus.TIMEOUT}


def test_sweep_is_idempotent(shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    shop.place(shop.add_customer(), (pid, 2))
    shop.clock.advance(TIMEOUT)
    assert expire_overdue_orders(shop.uow, shop.clock) == 1
    assert expire_overdue_orders(shop.uow, shop.clock) == 0
    assert shop.stock(pid) == 5


def test_order_expired_by_its_job_is_skipped_by_the_sweep(shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    order = shop.place(shop.add_customer(), (pid, 2))
    assert order.id is not None
    shop.clock.advance(TIMEOUT)
    assert expire_overdue_orders(shop.uow, shop.clock) == 1
    assert not expire_order(shop.uow, shop.clock, order.id)
    assert shop.stock(pid) == 5
