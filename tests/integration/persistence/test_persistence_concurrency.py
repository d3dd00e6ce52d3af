"""Real threads, each with its own connection, racing through the core's use cases."""

from __future__ import annotations

import multiprocessing
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop_adapters.sqlalchemy.database import Database
from shop_core.catalogue import OutOfStock, ProductQuery, StockLine
from shop_core.errors import Conflict
from shop_core.ledger import Movement, Result
from shop_core.money import Money
from shop_core.orders import CartLine, Order, OrderStatus
from shop_core.payments import (
    CallbackOutcome,
    PaymentCallback,
    PaymentEvent,
    ProviderTransaction,
)
from shop_core.testing import (
    FakeClock,
    FakeExpiryScheduler,
    FakePaymentGateway,
    FakePaymentOperations,
)
from shop_core.use_cases import cancelling, expiry, operations, ordering, payments

from .support import NOW, add_product, add_user, callback, run_together, stock_of


def _services(clock: FakeClock) -> ordering.OrderingServices:
    return ordering.OrderingServices(gateway=FakePaymentGateway(),
                                     scheduler=FakeExpiryScheduler(), clock=clock)


def _place(db: Database, services: ordering.OrderingServices, user_id: int,
           *lines: tuple[int, int]) -> Order:
    command = ordering.PlaceOrder(user_id, tuple(CartLine(p, q) for p, q in lines))
    return ordering.place_order(db.unit_of_work(), services, command)


def _get(db: Database, order_id: int) -> Order:
    return ordering.get_order(db.unit_of_work(), order_id, user_id=None)


def _oversell_race(db: Database, buyers: int) -> None:
    services = _services(FakeClock(NOW))
    user = add_user(db)
    product = add_product(db, stock=10)
    results = run_together(buyers, lambda _: _place(db, services, user.id or 0,
                                                    (product.id or 0, 1)))
    placed = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, OutOfStock)]
    assert len(placed) == 10 and len(refused) == buyers - 10, results
    assert stock_of(db, product.id or 0) == 0


def test_forty_buyers_for_ten_units_on_postgresql(pg_db: Database) -> None:
    _oversell_race(pg_db, 40)


def test_twenty_buyers_for_ten_units_on_sqlite_without_database_is_locked(
        sqlite_db: Database) -> None:
    _oversell_race(sqlite_db, 20)


def test_opposite_carts_neither_deadlock_nor_lose_updates(pg_db: Database) -> None:
    clock = FakeClock(NOW)
    services = _services(clock)
    user = add_user(pg_db)
    a, b = add_product(pg_db, stock=1000), add_product(pg_db, stock=1000)
    rounds = 12

    def shopper(index: int) -> int:
        """Places `rounds` orders, declining every other one; returns the units it kept."""
        kept = 0
        for n in range(rounds):
            first, second = (a, b) if index % 2 else (b, a)
            order = _place(pg_db, services, user.id or 0, (first.id or 0, 2),
                           (second.id or 0, 1))
            if n % 2:
                outcome = payments.apply_payment_callback(
                    pg_db.unit_of_work(), clock,
                    callback(order, f"decline-{index}-{n}", success=False))
                assert outcome is CallbackOutcome.DECLINED
            else:
                kept += 1
        return kept

    results = run_together(8, shopper)
    assert all(isinstance(r, int) for r in results), results
    kept_orders = sum(r for r in results if isinstance(r, int))
    assert stock_of(pg_db, a.id or 0) + stock_of(pg_db, b.id or 0) == 2000 - 3 * kept_orders
    assert stock_of(pg_db, a.id or 0) == stock_of(pg_db, b.id or 0)


def test_set_based_releases_racing_reversed_carts_neither_deadlock_nor_lose_units(
        pg_db: Database) -> None:
    products = [add_product(pg_db, name=f"P{i}", stock=100).id or 0 for i in range(10)]
    rounds = 15

    def worker(index: int) -> int:
        """Even workers release one unit of every product, odd ones reserve one of each
        (cart listed in descending id order); returns the units this worker moved."""
        for _ in range(rounds):
            with pg_db.unit_of_work() as uow:
                if index % 2:
                    lines = [StockLine(p, 1) for p in reversed(products)]
                    assert uow.products.reserve(lines).complete
                else:
                    uow.products.release([StockLine(p, 1) for p in products])
                uow.commit()
        return rounds

    results = run_together(8, worker)
    assert all(isinstance(r, int) for r in results), results  # no deadlock detected
    assert [stock_of(pg_db, p) for p in products] == [100] * 10  # 4 x 15 out, 4 x 15 back


@pytest.mark.parametrize("payment_succeeds", [True, False])
def test_expiry_racing_a_payment_ends_in_one_state_and_restores_stock_at_most_once(
        pg_db: Database, payment_succeeds: bool) -> None:
    clock = FakeClock(NOW)
    services = _services(clock)
    user = add_user(pg_db)
    product = add_product(pg_db, stock=100)
    orders = [_place(pg_db, services, user.id or 0, (product.id or 0, 2)) for _ in range(10)]
    clock.advance(timedelta(minutes=10))  # every order is due, and being paid for

    def race(index: int) -> object:
        order = orders[index // 3]
        if index % 3 == 0:
            return expiry.expire_order(pg_db.unit_of_work(), clock, order.id or 0)
        if index % 3 == 1:
            return expiry.expire_overdue_orders(pg_db.unit_of_work(), clock, batch_size=3)
        return payments.apply_payment_callback(
            pg_db.unit_of_work(), clock,
            callback(order, f"tx-{order.id}", success=payment_succeeds))

    results = run_together(30, race)
    assert not [r for r in results if isinstance(r, BaseException)], results
    final = [_get(pg_db, order.id or 0) for order in orders]
    if payment_succeeds:
        # Paid before the expiry, or timed out and then paid late with the stock re-taken.
        assert {o.status for o in final} == {OrderStatus.SUCCESS}
        assert not any(o.needs_refund for o in final)
        assert stock_of(pg_db, product.id or 0) == 100 - 2 * len(orders)
    else:
        assert {o.status for o in final} <= {OrderStatus.FAILED, OrderStatus.TIMEOUT}
        assert stock_of(pg_db, product.id or 0) == 100  # released exactly once per order


def test_concurrent_duplicate_callbacks_are_recorded_and_applied_once(pg_db: Database) -> None:
    clock = FakeClock(NOW)
    user = add_user(pg_db)
    product = add_product(pg_db, stock=5)
    order = _place(pg_db, _services(clock), user.id or 0, (product.id or 0, 1))
    results = run_together(12, lambda _: payments.apply_payment_callback(
        pg_db.unit_of_work(), clock, callback(order, "tx-dup")))
    assert sorted(map(str, results)) == sorted(
        [str(CallbackOutcome.PAID)] + [str(CallbackOutcome.DUPLICATE)] * 11)
    stored = _get(pg_db, order.id or 0)
    assert (stored.status, stored.needs_refund) == (OrderStatus.SUCCESS, False)
    with pg_db.unit_of_work() as uow:
        assert len(uow.payment_events.list_for_order(order.id or 0)) == 1


def _take_and_give_back(url: str, product_id: int, rounds: int) -> int:
    """In a process of its own: take one unit and give it back, `rounds` times; returns how
    many times the unit was there to take."""
    database = Database(url)
    taken = 0
    try:
        for _ in range(rounds):
            with database.unit_of_work() as uow:
                reservation = uow.products.reserve([StockLine(product_id, 1)])
                uow.commit()
            if reservation.complete:
                taken += 1
                with database.unit_of_work() as uow:
                    uow.products.release([StockLine(product_id, 1)])
                    uow.commit()
    finally:
        database.dispose()
    return taken


def test_processes_sharing_the_sqlite_file_lose_no_update(sqlite_db: Database) -> None:
    product = add_product(sqlite_db, stock=3)
    url = sqlite_db.url.render_as_string(hide_password=False)
    sqlite_db.dispose()  # no open SQLite connection may cross a fork
    with multiprocessing.get_context("fork").Pool(4) as pool:
        taken = pool.starmap(_take_and_give_back, [(url, product.id or 0, 50)] * 4)
    assert sum(taken) > 0
    assert stock_of(sqlite_db, product.id or 0) == 3


def test_sixteen_readers_at_once_keep_their_connections(pg_db: Database) -> None:
    # Two bursts of sixteen simultaneous reads: the second reuses the first's connections.
    # Connections above a smaller pool used to be closed on return, and each read beyond it
    # then paid for a new PostgreSQL session.
    add_product(pg_db)
    opened: list[object] = []
    sa.event.listen(pg_db.read_engine, "connect", lambda *_: opened.append(None))
    all_in = threading.Barrier(16)

    def read(_: int) -> int:
        with pg_db.unit_of_work(read_only=True) as uow:
            all_in.wait(timeout=10)  # every reader holds a connection at this point
            return len(uow.products.find(ProductQuery()).items)

    assert run_together(16, read) == [1] * 16
    assert len(opened) == 16
    opened.clear()
    assert run_together(16, read) == [1] * 16
    assert opened == []


def test_multi_line_carts_selling_a_product_out_neither_deadlock_nor_fail(
        pg_db: Database) -> None:
    """Each cart takes two plentiful products, then the scarce one, which sells out: the
    carts that fall short while others' order lines hold key-share locks on the plentiful
    rows must leave by rolling back, not by locking those rows again."""
    services = _services(FakeClock(NOW))
    user = add_user(pg_db)
    mug, bag = add_product(pg_db, name="Mug", stock=1000), add_product(pg_db, name="Bag",
                                                                        stock=1000)
    lantern = add_product(pg_db, name="Lantern", stock=25)  # the highest id: locked last
    cart = ((mug.id or 0, 1), (bag.id or 0, 1), (lantern.id or 0, 1))

    def shopper(_: int) -> list[object]:
        outcomes: list[object] = []
        for _round in range(8):
            try:
                outcomes.append(_place(pg_db, services, user.id or 0, *cart))
            except OutOfStock as refused:
                outcomes.append(refused)
        return outcomes

    results = run_together(12, shopper)
    assert all(isinstance(r, list) for r in results), results  # nothing but 201 or 409
    outcomes = [outcome for r in results if isinstance(r, list) for outcome in r]
    placed = sum(isinstance(outcome, Order) for outcome in outcomes)
    assert placed == 25 and len(outcomes) == 96
    assert [stock_of(pg_db, p.id or 0) for p in (mug, bag, lantern)] == [975, 975, 0]


class _SlowProvider(FakePaymentOperations):
    """Answers after a pause, so that every racing refund is in flight at once."""

    def refund(self, order: Order, transaction_id: str, amount: Money) -> ProviderTransaction:
        time.sleep(0.05)
        return super().refund(order, transaction_id, amount)


@pytest.mark.parametrize("amount", ["60.00", "150.00"])
def test_staff_refunding_one_order_at_once_never_refund_more_than_was_paid(
        pg_db: Database, amount: str) -> None:
    clock = FakeClock(NOW)
    product = add_product(pg_db, price=10_000, stock=5)
    staff = add_user(pg_db, username="staff", is_staff=True)
    order = _place(pg_db, _services(clock), add_user(pg_db).id or 0, (product.id or 0, 2))
    payments.apply_payment_callback(pg_db.unit_of_work(), clock, callback(order, "pay-1"))
    provider = _SlowProvider()
    services = operations.OperationServices(provider, clock)
    wanted = Money.parse(amount, "EGP")
    results = run_together(8, lambda _: operations.refund_order(
        pg_db.unit_of_work(), services,
        operations.Refund(order.id or 0, staff.id or 0, wanted)))
    done = [r for r in results if isinstance(r, PaymentEvent)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(done) + len(refused) == 8, results
    assert len(done) == 20_000 // wanted.amount  # 3 of 60.00, 1 of 150.00
    assert len(provider.calls) == len(done)  # the refused ones never reached the provider
    settled = _get(pg_db, order.id or 0)
    assert settled.balance.refunded == len(done) * wanted.amount <= settled.balance.paid
    assert settled.balance.held == 0
    with pg_db.unit_of_work() as uow:
        ledger = uow.payment_events.list_for_order(order.id or 0)
    assert sum(e.amount.amount for e in ledger if e.movement is Movement.REFUND
               and e.result is Result.SUCCEEDED) == settled.balance.refunded


def test_a_refund_answer_and_its_callback_racing_count_it_once(pg_db: Database) -> None:
    clock = FakeClock(NOW)
    product = add_product(pg_db, price=10_000, stock=50)
    staff = add_user(pg_db, username="staff", is_staff=True)
    customer = add_user(pg_db).id or 0
    provider = FakePaymentOperations()  # one provider: its transaction ids are unique
    for attempt in range(10):
        order = _place(pg_db, _services(clock), customer, (product.id or 0, 1))
        payments.apply_payment_callback(pg_db.unit_of_work(), clock,
                                        callback(order, f"pay-{attempt}"))
        racing: list[threading.Thread] = []

        def deliver_at_once(made: ProviderTransaction, order: Order = order,
                            racing: list[threading.Thread] = racing) -> None:
            refund = PaymentCallback(
                transaction_id=made.transaction_id, amount=made.amount, success=True,
                pending=False, is_refund=True, is_void=False, has_parent_transaction=True,
                order_id=order.id, provider_order_id=None)
            thread = threading.Thread(target=payments.apply_payment_callback,
                                      args=(pg_db.unit_of_work(), clock, refund))
            thread.start()
            racing.append(thread)

        provider.before_answer = deliver_at_once
        operations.refund_order(pg_db.unit_of_work(),
                                operations.OperationServices(provider, clock),
                                operations.Refund(order.id or 0, staff.id or 0,
                                                  Money(4000, "EGP")))
        racing[0].join(10)
        settled = _get(pg_db, order.id or 0)
        assert (settled.balance.refunded, settled.balance.held) == (4000, 0), attempt
        with pg_db.unit_of_work() as uow:
            refunds = [e for e in uow.payment_events.list_for_order(order.id or 0)
                       if e.movement is Movement.REFUND]
        assert [(e.result, e.started_by) for e in refunds] == [
            (Result.SUCCEEDED, staff.id)], attempt


def _cancel(db: Database, clock: FakeClock, order: Order) -> Order:
    return cancelling.cancel_order(db.unit_of_work(), clock, FakePaymentGateway(),
                                   cancelling.CancelOrder(order.id or 0, order.user_id))


@pytest.mark.parametrize("payment_succeeds", [True, False], ids=["paid", "declined"])
def test_cancel_racing_a_payment_ends_in_one_state_and_restores_stock_at_most_once(
        pg_db: Database, payment_succeeds: bool) -> None:
    clock = FakeClock(NOW)
    user = add_user(pg_db)
    product = add_product(pg_db, stock=100)
    orders = [_place(pg_db, _services(clock), user.id or 0, (product.id or 0, 2))
              for _ in range(10)]

    def race(index: int) -> object:
        order = orders[index // 2]
        if index % 2 == 0:
            return _cancel(pg_db, clock, order)
        return payments.apply_payment_callback(
            pg_db.unit_of_work(), clock,
            callback(order, f"tx-{order.id}", success=payment_succeeds))

    results = run_together(20, race)
    unexpected = [r for r in results if isinstance(r, BaseException)
                  and not isinstance(r, Conflict)]  # the cancel that came after the payment
    assert not unexpected, results
    final = [_get(pg_db, order.id or 0) for order in orders]
    if payment_succeeds:
        # Paid first, or cancelled first and then paid late with the stock taken again.
        assert {o.status for o in final} == {OrderStatus.SUCCESS}
        assert not any(o.needs_refund for o in final)
        assert stock_of(pg_db, product.id or 0) == 100 - 2 * len(orders)
    else:
        assert {o.status for o in final} <= {OrderStatus.FAILED, OrderStatus.CANCELLED}
        assert stock_of(pg_db, product.id or 0) == 100  # released exactly once per order


def test_cancel_racing_expiry_ends_in_one_state_and_restores_stock_once(
        pg_db: Database) -> None:
    clock = FakeClock(NOW)
    user = add_user(pg_db)
    product = add_product(pg_db, stock=100)
    orders = [_place(pg_db, _services(clock), user.id or 0, (product.id or 0, 3))
              for _ in range(10)]
    clock.advance(timedelta(minutes=10))

    def race(index: int) -> object:
        order = orders[index // 3]
        if index % 3 == 0:
            return _cancel(pg_db, clock, order)
        if index % 3 == 1:
            return expiry.expire_order(pg_db.unit_of_work(), clock, order.id or 0)
        return expiry.expire_overdue_orders(pg_db.unit_of_work(), clock, batch_size=3)

    results = run_together(30, race)
    refused = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(r, Conflict) for r in refused), results
    final = {o.status for o in (_get(pg_db, order.id or 0) for order in orders)}
    assert final <= {OrderStatus.CANCELLED, OrderStatus.TIMEOUT}
    cancelled = sum(isinstance(r, Order) for r in results)
    assert cancelled + len(refused) == len(orders)
    assert stock_of(pg_db, product.id or 0) == 100
