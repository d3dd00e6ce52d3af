"""The repository contract: every port behaves the same on the core's in-memory fakes
(`shop_core.testing`, which other services test with), on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from attrs import evolve

from shop_core.accounts import RefreshToken, UserQuery
from shop_core.catalogue import ProductQuery, Shortfall, StockLine
from shop_core.errors import AlreadyExists
from shop_core.ledger import Balance, Movement, Result
from shop_core.money import Money
from shop_core.orders import InquirySelection, Order, OrderQuery, OrderStatus
from shop_core.pagination import PageRequest
from shop_core.payments import CallbackOutcome, PaymentEvent, PaymentIntention, PaymentState
from shop_core.ports import IdempotencyRecord, UnitOfWork
from shop_core.reports import DutyRun, HourCount, PaymentBacklog, StatusTotal
from shop_core.stock_audit import StockChange, StockChangeKind

from .support import (
    NOW,
    InMemoryStore,
    ProductMaker,
    Store,
    UserMaker,
    a_line,
    add_product,
    add_user,
    an_order,
    later,
    new_user,
    place,
    stock_of,
)


@pytest.fixture(params=["fakes", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest) -> Store:
    if request.param == "fakes":
        return InMemoryStore()
    database: Store = request.getfixturevalue("sqlite_db" if request.param == "sqlite"
                                              else "pg_db")
    return database


@pytest.fixture
def uow(store: Store) -> UnitOfWork:
    return store.unit_of_work()


@pytest.fixture
def make_user(store: Store) -> UserMaker:
    return lambda **kw: add_user(store, **kw)


@pytest.fixture
def make_product(store: Store) -> ProductMaker:
    return lambda **kw: add_product(store, **kw)



def test_leaving_without_commit_rolls_back(uow: UnitOfWork, make_product: ProductMaker) -> None:
    product = make_product(stock=5)
    with uow:
        uow.products.set_stock(product.id or 0, 1)
    with uow:
        assert uow.products.get(product.id or 0) == product


def test_an_exception_rolls_back_and_the_uow_can_be_entered_again(
        uow: UnitOfWork, make_product: ProductMaker) -> None:
    product = make_product(stock=5)
    with pytest.raises(RuntimeError), uow:
        uow.products.set_stock(product.id or 0, 1)
        raise RuntimeError("boom")
    with uow:
        uow.products.set_stock(product.id or 0, 2)
        uow.commit()
    with uow:
        stored = uow.products.get(product.id or 0)
    assert stored is not None and stored.stock == 2


def test_repositories_refuse_work_outside_the_with_block(uow: UnitOfWork) -> None:
    with pytest.raises(RuntimeError):
        uow.products.get(1)


def test_a_uow_cannot_be_entered_while_active(uow: UnitOfWork) -> None:
    with uow, pytest.raises(RuntimeError), uow:
        pass


def test_users_round_trip_and_email_lookup_ignores_case(
        uow: UnitOfWork, make_user: UserMaker) -> None:
    user = make_user(username="alice", email="alice@example.com")
    with uow:
        assert uow.users.get(user.id or 0) == user
        assert uow.users.get_by_username("alice") == user
        assert uow.users.get_by_email("ALICE@Example.com") == user
        assert uow.users.get_by_username("bob") is None
        assert uow.users.get(999) is None


@pytest.mark.parametrize(("username", "email", "field"), [
    ("alice", "other@example.com", "username"),
    ("bob", "Alice@Example.com", "email"),
])
def test_a_taken_username_or_email_is_already_exists_and_the_transaction_survives(
        uow: UnitOfWork, make_user: UserMaker, make_product: ProductMaker,
        username: str, email: str, field: str) -> None:
    make_user(username="alice", email="alice@example.com")
    product = make_product(stock=3)
    with uow:
        uow.products.set_stock(product.id or 0, 7)
        duplicate = new_user(username, email.lower())
        with pytest.raises(AlreadyExists) as taken:
            uow.users.add(duplicate)
        assert taken.value.field == field
        uow.commit()  # the savepoint kept the rest of the transaction alive
    with uow:
        stored = uow.products.get(product.id or 0)
    assert stored is not None and stored.stock == 7


def test_update_writes_the_profile_and_refuses_a_taken_email(
        uow: UnitOfWork, make_user: UserMaker) -> None:
    alice = make_user(username="alice")
    make_user(username="bob")
    alice.first_name, alice.is_staff, alice.password_hash = "Alice", True, "new-hash"
    alice.email = "alice.new@example.com"
    with uow:
        uow.users.update(alice)
        uow.commit()
    with uow:
        assert uow.users.get(alice.id or 0) == alice
        alice.email = "bob@example.com"
        with pytest.raises(AlreadyExists) as taken:
            uow.users.update(alice)
        assert taken.value.field == "email"


def test_refresh_tokens_revoke_once_and_by_family(uow: UnitOfWork, make_user: UserMaker) -> None:
    user = make_user()
    tokens = [RefreshToken(jti=f"t{i}", user_id=user.id or 0, family_id="fam" if i < 2 else "x",
                           expires_at=later(60)) for i in range(3)]
    with uow:
        for token in tokens:
            uow.refresh_tokens.add(token)
        uow.commit()
    with uow:
        assert uow.refresh_tokens.get("t0") == tokens[0]
        assert uow.refresh_tokens.get("nope") is None
        assert uow.refresh_tokens.revoke("t0", later(1)) is True
        assert uow.refresh_tokens.revoke("t0", later(2)) is False
        assert uow.refresh_tokens.revoke("nope", later(2)) is False
        uow.refresh_tokens.revoke_family("fam", later(3))
        uow.commit()
    with uow:
        assert uow.refresh_tokens.get("t0") == evolve(tokens[0], revoked_at=later(1))
        assert uow.refresh_tokens.get("t1") == evolve(tokens[1], revoked_at=later(3))
        assert uow.refresh_tokens.get("t2") == tokens[2]


def test_products_round_trip_with_money_in_minor_units(
        uow: UnitOfWork, make_product: ProductMaker) -> None:
    big = make_product(name="Car", price=10**10, stock=2**31 - 1)
    with uow:
        assert uow.products.get(big.id or 0) == big
        assert uow.products.get(999) is None
        assert uow.products.get_many([big.id or 0, 999]) == {big.id: big}
        assert uow.products.get_many([]) == {}


def test_save_never_writes_stock_and_set_stock_writes_only_stock(
        uow: UnitOfWork, make_product: ProductMaker) -> None:
    product = make_product(stock=10)
    with uow:
        assert uow.products.reserve([StockLine(product.id or 0, 3)]).complete
        edited = evolve(product, name="Big mug", price=Money(2500, "EGP"), stock=999,
                        is_deleted=True, updated_at=later(5))
        uow.products.save(edited)
        uow.commit()
    with uow:
        assert uow.products.get(product.id or 0) == evolve(edited, stock=7, version=2)
        assert uow.products.set_stock(product.id or 0, 42) == 7
        assert uow.products.get(product.id or 0) == evolve(edited, stock=42, version=2)


def test_reserve_takes_every_line_or_none_and_reports_each_shortfall(
        store: Store, make_product: ProductMaker) -> None:
    a, b, c = make_product(stock=5), make_product(stock=1), make_product(stock=3)
    gone = make_product(stock=50, is_deleted=True)
    with store.unit_of_work() as uow:
        reservation = uow.products.reserve([
            StockLine(c.id or 0, 3), StockLine(a.id or 0, 2), StockLine(b.id or 0, 2),
            StockLine(gone.id or 0, 1), StockLine(999, 1),
        ])
        assert reservation.shortfalls == (
            Shortfall(b.id or 0, 2, 1), Shortfall(gone.id or 0, 1, 0), Shortfall(999, 1, 0))
        assert reservation.sold_out == ()
        uow.commit()
    assert [stock_of(store, p.id or 0) for p in (a, b, c, gone)] == [5, 1, 3, 50]
    with store.unit_of_work() as uow:
        reservation = uow.products.reserve([StockLine(a.id or 0, 5), StockLine(c.id or 0, 1)])
        # a has none left: the reservation says so, with the product as it is now.
        assert reservation.complete
        assert [(p.id, p.stock) for p in reservation.sold_out] == [(a.id, 0)]
        uow.products.release([StockLine(c.id or 0, 10)])
        uow.commit()
    assert [stock_of(store, p.id or 0) for p in (a, c)] == [0, 12]


def test_orders_round_trip_with_lines_and_payment(
        uow: UnitOfWork, make_user: UserMaker, make_product: ProductMaker) -> None:
    user = make_user()
    a, b = make_product(), make_product()
    order = place(uow, an_order(user.id or 0, [a_line(a.id or 0, 2, 1999),
                                              a_line(b.id or 0, 1, 500)]))
    payment = PaymentIntention("pi_1", "https://pay.example/x", "777")
    with uow:
        fetched = uow.orders.get(order.id or 0)
        assert fetched == order and fetched.payment is None
        assert fetched.total == Money(4498, "EGP")
        uow.orders.attach_payment(order.id or 0, payment, later(1))
        uow.commit()
    expected = evolve(order, payment=payment, updated_at=later(1))
    with uow:
        assert uow.orders.get(order.id or 0) == expected
        assert uow.orders.get_by_provider_order_id("777") == expected
        assert uow.orders.get_by_provider_order_id("778") is None
        assert uow.orders.get(999) is None


def test_update_is_conditional_on_the_expected_status(
        uow: UnitOfWork, make_user: UserMaker, make_product: ProductMaker) -> None:
    order = place(uow, an_order(make_user().id or 0, [a_line(make_product().id or 0)]))
    paid = evolve(order, status=OrderStatus.SUCCESS, updated_at=later(1))
    with uow:
        assert uow.orders.update(paid, expected_status=OrderStatus.PENDING) is True
        timed_out = evolve(order, status=OrderStatus.TIMEOUT, updated_at=later(2))
        assert uow.orders.update(timed_out, expected_status=OrderStatus.PENDING) is False
        flagged = evolve(paid, needs_refund=True, updated_at=later(3))
        assert uow.orders.update(flagged, expected_status=OrderStatus.SUCCESS) is True
        uow.commit()
    with uow:
        assert uow.orders.get(order.id or 0) == flagged


def test_expire_overdue_moves_only_due_pending_orders_and_returns_their_lines(
        uow: UnitOfWork, make_user: UserMaker, make_product: ProductMaker) -> None:
    user_id = make_user().id or 0
    a, b = make_product().id or 0, make_product().id or 0
    due = [place(uow, an_order(user_id, [a_line(b, 2), a_line(a, 1)], expires=later(5)))
           for _ in range(3)]
    place(uow, an_order(user_id, [a_line(a)], expires=later(11)))  # not yet due
    paid = place(uow, an_order(user_id, [a_line(a)], expires=later(1)))
    with uow:
        uow.orders.update(evolve(paid, status=OrderStatus.SUCCESS),
                          expected_status=OrderStatus.PENDING)
        uow.commit()
    with uow:
        moved = uow.orders.expire_overdue(later(5), 2, OrderStatus.TIMEOUT)
        assert {o.id: o.stock_lines for o in moved} == {
            o.id: [StockLine(a, 1), StockLine(b, 2)] for o in due[:2]}
        assert {o.status for o in moved} == {OrderStatus.TIMEOUT}
        assert moved[0] == evolve(due[0], status=OrderStatus.TIMEOUT, updated_at=later(5))
        uow.commit()
    with uow:
        assert [o.id for o in uow.orders.expire_overdue(later(10), 10, OrderStatus.TIMEOUT)
                ] == [due[2].id]
        assert uow.orders.expire_overdue(later(10), 10, OrderStatus.TIMEOUT) == []
        uow.commit()
    with uow:
        stored = uow.orders.get(due[0].id or 0)
        assert stored is not None
        assert (stored.status, stored.updated_at) == (OrderStatus.TIMEOUT, later(5))
        timed_out = uow.orders.find(OrderQuery(status=OrderStatus.TIMEOUT))
    assert timed_out.count == 3


def test_payment_events_are_recorded_once_per_transaction_id(
        uow: UnitOfWork, make_user: UserMaker, make_product: ProductMaker) -> None:
    order = place(uow, an_order(make_user().id or 0, [a_line(make_product().id or 0)]))
    event = PaymentEvent("tx-1", order.id, Money(1000, "EGP"), True, False, False,
                         CallbackOutcome.PAID, NOW)
    with uow:
        assert uow.payment_events.add(event) is True
        assert uow.payment_events.add(evolve(event, success=False)) is False
        assert uow.payment_events.add(evolve(event, transaction_id="tx-2", order_id=None,
                                             outcome=CallbackOutcome.UNKNOWN_ORDER)) is True
        uow.commit()
    with uow:
        [stored] = uow.payment_events.list_for_order(order.id or 0)
        assert evolve(stored, id=None) == event


def test_a_reserved_movement_gets_its_transaction_id_once(
        uow: UnitOfWork, make_user: UserMaker, make_product: ProductMaker) -> None:
    staff = make_user(username="staff")
    order = place(uow, an_order(make_user().id or 0, [a_line(make_product().id or 0)]))
    reserved = PaymentEvent(None, order.id, Money(500, "EGP"), False, True, True, None, NOW,
                            movement=Movement.REFUND, result=Result.PENDING,
                            started_by=staff.id, parent_transaction_id="tx-1",
                            reason="broken", updated_at=NOW)
    with uow:
        first = uow.payment_events.reserve(reserved)
        second = uow.payment_events.reserve(reserved)
        assert first.id and second.id and first.id != second.id
        settled = evolve(first, transaction_id="tx-9", result=Result.SUCCEEDED)
        assert uow.payment_events.update(settled) is True
        assert uow.payment_events.update(evolve(second, transaction_id="tx-9")) is False
        uow.commit()
    with uow:
        assert uow.payment_events.get_by_transaction_id("tx-9") == settled
        assert uow.payment_events.get(second.id) == second
        assert uow.payment_events.list_for_order(order.id or 0) == [settled, second]


def test_an_order_update_is_conditional_on_the_balance_read(
        uow: UnitOfWork, make_user: UserMaker, make_product: ProductMaker) -> None:
    order = place(uow, an_order(make_user().id or 0, [a_line(make_product().id or 0)]))
    with uow:
        stored = uow.orders.get(order.id or 0)
        assert stored is not None and stored.balance == Balance()
        stored.balance = Balance(1000, 0, 400)
        assert uow.orders.update(stored, expected_status=stored.status,
                                 expected_balance=Balance()) is True
        stale = evolve(stored, balance=Balance(1000, 0, 900))
        assert uow.orders.update(stale, expected_status=stored.status,
                                 expected_balance=Balance()) is False
        uow.commit()
    with uow:
        again = uow.orders.get(order.id or 0)
        assert again is not None and again.balance == Balance(1000, 0, 400)
        assert again.paid_amount == Money(1000, "EGP")


def test_idempotency_keys_are_unique_per_user_and_remember_their_answer(
        uow: UnitOfWork, make_user: UserMaker) -> None:
    alice, bob = make_user(username="alice"), make_user(username="bob")
    record = IdempotencyRecord(alice.id or 0, "key-1", "f" * 64, NOW)
    with uow:
        assert uow.idempotency_keys.add(record) is True
        assert uow.idempotency_keys.add(evolve(record, fingerprint="other")) is False
        assert uow.idempotency_keys.add(evolve(record, user_id=bob.id or 0)) is True
        uow.idempotency_keys.complete(alice.id or 0, "key-1", 201, '{"id": 1}')
        uow.commit()
    with uow:
        assert uow.idempotency_keys.get(alice.id or 0, "key-1") == evolve(
            record, status=201, body='{"id": 1}')
        assert uow.idempotency_keys.get(alice.id or 0, "key-2") is None
        uow.idempotency_keys.forget(bob.id or 0, "key-1")
        assert uow.idempotency_keys.get(bob.id or 0, "key-1") is None
        uow.commit()


def test_old_idempotency_keys_are_pruned(uow: UnitOfWork, make_user: UserMaker) -> None:
    user_id = make_user().id or 0
    with uow:
        for age in range(5):
            uow.idempotency_keys.add(IdempotencyRecord(user_id, f"k{age}", "f",
                                                       NOW - timedelta(hours=20 + age)))
        assert uow.idempotency_keys.prune(NOW - timedelta(hours=22), limit=1) == 1
        assert uow.idempotency_keys.prune(NOW - timedelta(hours=22), limit=10) == 1
        uow.commit()
    with uow:
        assert [uow.idempotency_keys.get(user_id, f"k{age}") is not None
                for age in range(5)] == [True, True, True, False, False]


def test_emails_are_stored_in_lower_case(uow: UnitOfWork, make_user: UserMaker) -> None:
    user = make_user(username="alice", email="Alice@Example.COM")
    assert user.email == "alice@example.com"
    user.email = "Alice.New@Example.COM"
    with uow:
        uow.users.update(user)
        uow.commit()
    with uow:
        stored = uow.users.get(user.id or 0)
    assert stored is not None and stored.email == "alice.new@example.com"


def test_expire_overdue_takes_the_earliest_deadlines_first(
        uow: UnitOfWork, make_user: UserMaker, make_product: ProductMaker) -> None:
    user_id, product = make_user().id or 0, make_product().id or 0
    # Placed in the reverse order of their deadlines: ids and deadlines disagree.
    placed = [place(uow, an_order(user_id, [a_line(product)], expires=later(minutes)))
              for minutes in (3, 2, 1)]
    with uow:
        first = uow.orders.expire_overdue(later(5), 1, OrderStatus.TIMEOUT)
        second = uow.orders.expire_overdue(later(5), 1, OrderStatus.TIMEOUT)
        uow.commit()
    assert ([o.id for o in first], [o.id for o in second]) == ([placed[2].id], [placed[1].id])


def test_save_with_a_stale_version_writes_nothing(
        uow: UnitOfWork, make_product: ProductMaker) -> None:
    product = make_product(name="Mug")
    with uow:
        assert uow.products.save(evolve(product, name="First"), expected_version=1)
        assert not uow.products.save(evolve(product, name="Second"), expected_version=1)
        uow.commit()
    with uow:
        stored = uow.products.get(product.id or 0)
    assert stored is not None and (stored.name, stored.version) == ("First", 2)


def test_adjust_stock_moves_by_a_delta_and_never_below_zero(
        uow: UnitOfWork, make_product: ProductMaker) -> None:
    product = make_product(stock=4)
    with uow:
        assert uow.products.adjust_stock(product.id or 0, 6) == (4, 10)
        assert uow.products.adjust_stock(product.id or 0, -11) is None
        assert uow.products.adjust_stock(product.id or 0, -10) == (10, 0)
        assert uow.products.adjust_stock(999, 1) is None
        uow.commit()
    with uow:
        assert uow.products.find(ProductQuery(stock_below=1)).count == 1
        assert uow.products.find(ProductQuery(stock_below=1, in_stock=True)).count == 0


def test_stock_audit_keeps_each_request_once_newest_first(
        uow: UnitOfWork, make_product: ProductMaker, make_user: UserMaker) -> None:
    product, clerk = make_product(stock=5), make_user(username="clerk", is_staff=True)
    first = StockChange(product.id or 0, clerk.id, StockChangeKind.CREATED, 0, 5, "", NOW)
    second = StockChange(product.id or 0, clerk.id, StockChangeKind.ADJUSTED, 5, 8,
                         "Delivery", later(1), "form-1")
    with uow:
        assert uow.stock_audit.add(first)
        assert uow.stock_audit.add(second)
        assert not uow.stock_audit.add(evolve(second, after=11))
        uow.commit()
    with uow:
        trail = uow.stock_audit.list_for_product(product.id or 0, PageRequest(1, 10))
        assert uow.stock_audit.get_by_request_key("form-1") == second
        assert uow.stock_audit.get_by_request_key("form-2") is None
    assert (list(trail.items), trail.count) == ([second, first], 2)


def test_the_duty_log_keeps_each_duty_last_run(uow: UnitOfWork) -> None:
    with uow:
        assert uow.duty_log.last("sweep") is None
        uow.duty_log.record(DutyRun("sweep", NOW, 3))
        uow.duty_log.record(DutyRun("sweep", later(1), 0))
        uow.commit()
    with uow:
        assert uow.duty_log.last("sweep") == DutyRun("sweep", later(1), 0)


def test_reports_count_and_value_orders_by_status_and_hour(
        uow: UnitOfWork, make_product: ProductMaker, make_user: UserMaker) -> None:
    user, product = make_user(), make_product()
    pid = product.id or 0
    place(uow, an_order(user.id or 0, [a_line(pid, 2, 1000), a_line(pid, 1, 500)]))
    place(uow, an_order(user.id or 0, [a_line(pid)], created=later(61)))
    place(uow, an_order(user.id or 0, [a_line(pid)], created=later(-60)))
    with uow:
        totals = uow.reports.status_totals(NOW)
        hours = uow.reports.orders_per_hour(NOW)
        backlog = uow.reports.payment_backlog(later(30))
    assert totals == [StatusTotal(OrderStatus.PENDING, 2, Money(3500, "EGP"))]
    assert hours == [HourCount(NOW, 1), HourCount(later(60), 1)]
    assert backlog == PaymentBacklog(awaiting_payment=1, overdue=2)


def test_users_are_listed_by_kind_and_found_by_name_or_email(
        uow: UnitOfWork, make_user: UserMaker) -> None:
    alice = make_user(username="alice", email="alice@shop.test")
    bob = make_user(username="bob", email="bob@Mail.test")
    make_user(username="clerk", is_staff=True)
    with uow:
        assert uow.users.find(UserQuery(search="MAIL")).items == (bob,)
        assert uow.users.find(UserQuery()).count == 2
        assert [u.username for u in uow.users.find(UserQuery(is_staff=True)).items] == ["clerk"]
        assert uow.users.get_many([alice.id or 0, 999]) == {alice.id: alice}


def test_orders_are_found_by_reference_and_placing_time(
        uow: UnitOfWork, make_product: ProductMaker, make_user: UserMaker) -> None:
    user, product = make_user(), make_product()
    early = place(uow, an_order(user.id or 0, [a_line(product.id or 0)]))
    late = place(uow, an_order(user.id or 0, [a_line(product.id or 0)], created=later(90)))
    with uow:
        uow.orders.attach_payment(late.id or 0, PaymentIntention("int-7", "https://pay", "777"),
                                  later(91))
        uow.commit()

    def found(**query: object) -> list[int | None]:
        with uow:
            return [o.id for o in uow.orders.find(OrderQuery(**query)).items]  # type: ignore[arg-type]

    assert found(reference=str(early.id)) == [early.id]
    assert found(reference="777") == [late.id]
    assert found(reference="int-7") == [late.id]
    assert found(reference="9" * 40) == []
    assert found(placed_from=later(1)) == [late.id]
    assert found(placed_before=later(1)) == [early.id]


def _opened(uow: UnitOfWork, order: Order, status: OrderStatus = OrderStatus.PENDING,
            updated: datetime = NOW) -> Order:
    """`order` with its payment opened, moved to `status` at `updated`."""
    payment = PaymentIntention(f"pi_{order.id}", "https://pay.example/x")
    with uow:
        uow.orders.attach_payment(order.id or 0, payment, NOW)
        moved = evolve(order, payment=payment, status=status, updated_at=updated)
        uow.orders.update(moved, expected_status=OrderStatus.PENDING)
        uow.commit()
    return moved


def test_due_for_inquiry_picks_overdue_then_due_soon_then_recent_unpaid_orders(
        uow: UnitOfWork, make_user: UserMaker, make_product: ProductMaker) -> None:
    user_id, pid = make_user().id or 0, make_product().id or 0

    def order(expires: int, status: OrderStatus = OrderStatus.PENDING,
              updated: int = 0) -> Order:
        placed = place(uow, an_order(user_id, [a_line(pid)], expires=later(expires)))
        return _opened(uow, placed, status, later(updated))

    overdue = order(9)
    due_soon = order(11)
    order(30)  # not due yet
    timed_out = order(5, OrderStatus.TIMEOUT, updated=5)
    cancelled = order(20, OrderStatus.CANCELLED, updated=8)
    order(-100, OrderStatus.TIMEOUT, updated=-100)  # out of the window
    order(9, OrderStatus.SUCCESS, updated=1)  # paid
    place(uow, an_order(user_id, [a_line(pid)], expires=later(1)))  # payment never opened

    def due(now: int, *, since: int | None = -60, lead: int = 2,
            limit: int = 10) -> list[int | None]:
        with uow:
            return [o.id for o in uow.orders.due_for_inquiry(InquirySelection(
                now=later(now), lead=timedelta(minutes=lead),
                since=later(since) if since is not None else None,
                recheck=timedelta(minutes=10), limit=limit))]

    assert due(10) == [overdue.id, due_soon.id, timed_out.id, cancelled.id]
    assert due(10, limit=2) == [overdue.id, due_soon.id]
    assert due(10, since=None, lead=0) == [overdue.id]
    with uow:
        uow.orders.note_payment_checked([overdue.id or 0, cancelled.id or 0], later(10))
        uow.commit()
    assert due(10) == [due_soon.id, timed_out.id]
    assert due(21) == [due_soon.id, timed_out.id, cancelled.id]  # the recheck has passed
    with uow:
        stored = uow.orders.get(overdue.id or 0)
    assert stored is not None and stored.payment_checked_at == later(10)


def test_due_for_inquiry_asks_about_money_held_for_an_unsettled_refund(
        uow: UnitOfWork, make_user: UserMaker, make_product: ProductMaker) -> None:
    user_id, pid = make_user().id or 0, make_product().id or 0
    paid = _opened(uow, place(uow, an_order(user_id, [a_line(pid)], expires=later(5))),
                   OrderStatus.SUCCESS, later(1))
    _opened(uow, place(uow, an_order(user_id, [a_line(pid)], expires=later(5))),
            OrderStatus.SUCCESS, later(1))  # paid, nothing held
    with uow:
        held = evolve(paid, balance=Balance(1000, 0, 400))
        assert uow.orders.update(held, expected_status=OrderStatus.SUCCESS,
                                 expected_balance=Balance())
        uow.commit()

    def due(now: int) -> list[int | None]:
        with uow:
            return [o.id for o in uow.orders.due_for_inquiry(InquirySelection(
                now=later(now), lead=timedelta(minutes=2), since=None,
                recheck=timedelta(minutes=10), limit=10))]

    assert due(60) == [paid.id]
    with uow:
        uow.orders.note_payment_checked([paid.id or 0], later(60))
        uow.commit()
    assert due(65) == [] and due(71) == [paid.id]


def test_expire_overdue_lets_an_opened_payment_wait_for_an_answer_or_the_grace(
        uow: UnitOfWork, make_user: UserMaker, make_product: ProductMaker) -> None:
    user_id, pid = make_user().id or 0, make_product().id or 0
    unopened = place(uow, an_order(user_id, [a_line(pid)], expires=later(5)))
    asked = _opened(uow, place(uow, an_order(user_id, [a_line(pid)], expires=later(5))))
    waiting = _opened(uow, place(uow, an_order(user_id, [a_line(pid)], expires=later(5))))
    grace = timedelta(minutes=2)
    with uow:
        uow.orders.note_payment_checked([asked.id or 0], later(5))
        uow.commit()
    with uow:
        assert {o.id for o in uow.orders.expire_overdue(
            later(6), 10, OrderStatus.TIMEOUT, grace)} == {unopened.id, asked.id}
        assert uow.orders.expire_overdue(later(6), 10, OrderStatus.TIMEOUT, grace) == []
        assert {o.id for o in uow.orders.expire_overdue(
            later(7), 10, OrderStatus.TIMEOUT, grace)} == {waiting.id}
        uow.commit()


def test_update_writes_the_payment_state_and_reference(
        uow: UnitOfWork, make_user: UserMaker, make_product: ProductMaker) -> None:
    order = place(uow, an_order(make_user().id or 0, [a_line(make_product().id or 0)]))
    order.await_payment(PaymentState.AWAITING_KIOSK_PAYMENT, "7412589", later(1))
    with uow:
        assert uow.orders.update(order, expected_status=OrderStatus.PENDING)
        uow.commit()
    with uow:
        assert uow.orders.get(order.id or 0) == order
