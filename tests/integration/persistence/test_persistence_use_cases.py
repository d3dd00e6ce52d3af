"""The core's use cases, unchanged, on the real adapter: SQLite and PostgreSQL."""

from __future__ import annotations

import functools
import itertools
from datetime import timedelta

import pytest

from shop_adapters.sqlalchemy.database import Database
from shop_core.catalogue import OutOfStock, ProductQuery
from shop_core.errors import (
    AuthenticationFailed,
    Conflict,
    IdempotencyMismatch,
    NotFound,
    PaymentProviderError,
    ValidationError,
)
from shop_core.money import Money
from shop_core.orders import CartLine, Order, OrderQuery, OrderStatus
from shop_core.payments import CallbackOutcome
from shop_core.testing import (
    FakeClock,
    FakeExpiryScheduler,
    FakePasswordHasher,
    FakePaymentGateway,
)
from shop_core.use_cases import accounts, catalogue, expiry, idempotency, ordering, payments

from .support import NOW, ProductMaker, UserMaker, callback, stock_of


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def gateway() -> FakePaymentGateway:
    return FakePaymentGateway()


@pytest.fixture
def services(gateway: FakePaymentGateway, clock: FakeClock) -> ordering.OrderingServices:
    return ordering.OrderingServices(gateway=gateway, scheduler=FakeExpiryScheduler(),
                                     clock=clock)


def _place(db: Database, services: ordering.OrderingServices, user_id: int,
           *lines: tuple[int, int]) -> Order:
    command = ordering.PlaceOrder(user_id, tuple(CartLine(p, q) for p, q in lines))
    return ordering.place_order(db.unit_of_work(), services, command)


def _status(db: Database, order_id: int) -> Order:
    return ordering.get_order(db.unit_of_work(), order_id, user_id=None)


# -- accounts -------------------------------------------------------------------------------

def test_register_sign_in_and_edit_the_profile(db: Database, clock: FakeClock) -> None:
    hasher = FakePasswordHasher()
    user = accounts.register(db.unit_of_work(), hasher, clock, accounts.Registration(
        "alice", "Alice@Example.com", "correct horse"))
    assert user.id is not None and user.email == "alice@example.com"
    assert accounts.authenticate(db.unit_of_work(), hasher, "alice", "correct horse") == user
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(db.unit_of_work(), hasher, "alice", "wrong password")
    with pytest.raises(ValidationError) as taken:
        accounts.register(db.unit_of_work(), hasher, clock, accounts.Registration(
            "bob", "ALICE@example.com", "correct horse"))
    assert set(taken.value.field_errors) == {"email"}
    changed = accounts.update_profile(db.unit_of_work(), user.id, accounts.ProfileChanges(
        email="New@Example.com", first_name="Alice"))
    assert accounts.get_user(db.unit_of_work(), user.id) == changed
    assert changed.email == "new@example.com"


def test_a_refresh_token_rotates_once_and_reuse_revokes_the_family(
        db: Database, clock: FakeClock, make_user: UserMaker) -> None:
    user = make_user()
    ids = (f"id{n}" for n in itertools.count())
    first = accounts.start_session(db.unit_of_work(), clock, user.id or 0,
                                   timedelta(days=7), lambda: next(ids))
    _, second = accounts.rotate_refresh_token(db.unit_of_work(), clock, first.jti,
                                              timedelta(days=7), lambda: next(ids))
    with pytest.raises(AuthenticationFailed):
        accounts.rotate_refresh_token(db.unit_of_work(), clock, first.jti, timedelta(days=7),
                                      lambda: next(ids))
    with pytest.raises(AuthenticationFailed):  # the leaked family is dead
        accounts.rotate_refresh_token(db.unit_of_work(), clock, second.jti,
                                      timedelta(days=7), lambda: next(ids))


# -- catalogue ------------------------------------------------------------------------------

def test_manage_and_browse_the_catalogue(db: Database, clock: FakeClock) -> None:
    mug = catalogue.create_product(db.unit_of_work(), clock, catalogue.ProductDetails(
        "Mug", Money(19_999, "EGP"), 5))
    clock.advance(timedelta(minutes=1))
    catalogue.create_product(db.unit_of_work(), clock, catalogue.ProductDetails(
        "Teapot", Money(30_000, "EGP"), 0))
    edited = catalogue.update_product(db.unit_of_work(), clock, mug.id or 0,
                                      catalogue.ProductChanges(description="Big"))
    assert (edited.description, edited.stock) == ("Big", 5)
    listed = catalogue.list_products(db.unit_of_work(), ProductQuery(in_stock=True))
    assert [p.id for p in listed.items] == [mug.id]
    catalogue.delete_product(db.unit_of_work(), clock, mug.id or 0)
    with pytest.raises(NotFound):
        catalogue.get_product(db.unit_of_work(), mug.id or 0)
    assert catalogue.get_product(db.unit_of_work(), mug.id or 0, include_deleted=True).is_deleted
    assert catalogue.list_products(db.unit_of_work(), ProductQuery()).count == 1


# -- ordering -------------------------------------------------------------------------------

def test_place_order_reserves_stock_and_opens_the_payment(
        db: Database, services: ordering.OrderingServices, make_user: UserMaker,
        make_product: ProductMaker) -> None:
    user = make_user()
    a, b = make_product(stock=5, price=1000), make_product(stock=2, price=250)
    order = _place(db, services, user.id or 0, (b.id or 0, 1), (a.id or 0, 2), (b.id or 0, 1))
    assert order.status is OrderStatus.PENDING and order.total == Money(2500, "EGP")
    assert (stock_of(db, a.id or 0), stock_of(db, b.id or 0)) == (3, 0)
    stored = _status(db, order.id or 0)
    assert stored.payment == order.payment and stored.payment is not None
    listed = ordering.list_orders(db.unit_of_work(), OrderQuery(user_id=user.id))
    assert [o.id for o in listed.items] == [order.id]


def test_out_of_stock_changes_nothing(db: Database, services: ordering.OrderingServices,
                                      make_user: UserMaker, make_product: ProductMaker) -> None:
    user = make_user()
    a, b = make_product(stock=5), make_product(stock=1)
    with pytest.raises(OutOfStock) as short:
        _place(db, services, user.id or 0, (a.id or 0, 2), (b.id or 0, 3))
    assert [(s.product_id, s.requested, s.available) for s in short.value.unavailable] == [
        (b.id, 3, 1)]
    assert (stock_of(db, a.id or 0), stock_of(db, b.id or 0)) == (5, 1)
    assert ordering.list_orders(db.unit_of_work(), OrderQuery()).count == 0


def test_an_idempotency_key_replays_the_first_answer_and_refuses_another_request(
        db: Database, services: ordering.OrderingServices, make_user: UserMaker) -> None:
    user_id = make_user().id or 0
    claim = functools.partial(idempotency.claim, db.unit_of_work(), services.clock, user_id,
                              "k1")
    assert claim("request-a") is None
    with pytest.raises(Conflict, match="in progress"):
        claim("request-a")
    idempotency.remember(db.unit_of_work(), user_id, "k1", idempotency.Answer(502, "{}"))
    assert claim("request-a") == idempotency.Answer(502, "{}")
    with pytest.raises(IdempotencyMismatch):
        claim("request-b")


def test_a_failing_gateway_fails_the_order_and_gives_the_stock_back(
        db: Database, services: ordering.OrderingServices, gateway: FakePaymentGateway,
        make_user: UserMaker, make_product: ProductMaker) -> None:
    product = make_product(stock=5)
    gateway.fail_next = True
    with pytest.raises(PaymentProviderError):
        _place(db, services, make_user().id or 0, (product.id or 0, 2))
    [order] = ordering.list_orders(db.unit_of_work(), OrderQuery()).items
    assert order.status is OrderStatus.FAILED and stock_of(db, product.id or 0) == 5


# -- payments and expiry --------------------------------------------------------------------

def test_callbacks_pay_decline_and_are_recorded_once(
        db: Database, services: ordering.OrderingServices, clock: FakeClock,
        make_user: UserMaker, make_product: ProductMaker) -> None:
    user = make_user()
    product = make_product(stock=5)
    paid = _place(db, services, user.id or 0, (product.id or 0, 1))
    declined = _place(db, services, user.id or 0, (product.id or 0, 2))

    def apply(order: Order, tx: str, *, success: bool = True,
              is_refund: bool = False) -> CallbackOutcome:
        return payments.apply_payment_callback(
            db.unit_of_work(), clock, callback(order, tx, success=success, is_refund=is_refund))

    assert apply(paid, "tx1") is CallbackOutcome.PAID
    assert apply(paid, "tx1", success=False) is CallbackOutcome.DUPLICATE
    assert apply(declined, "tx2", success=False) is CallbackOutcome.DECLINED
    assert apply(declined, "tx3", is_refund=True) is CallbackOutcome.REVERSAL_RECORDED
    assert _status(db, paid.id or 0).status is OrderStatus.SUCCESS
    assert _status(db, declined.id or 0).status is OrderStatus.FAILED
    assert stock_of(db, product.id or 0) == 4
    with db.unit_of_work() as uow:
        assert [e.transaction_id for e in uow.payment_events.list_for_order(
            declined.id or 0)] == ["tx2", "tx3"]


def test_expiry_then_a_late_payment_retakes_stock_or_flags_a_refund(
        db: Database, services: ordering.OrderingServices, clock: FakeClock,
        make_user: UserMaker, make_product: ProductMaker) -> None:
    user = make_user()
    product = make_product(stock=3)
    first = _place(db, services, user.id or 0, (product.id or 0, 2))
    second = _place(db, services, user.id or 0, (product.id or 0, 1))
    assert expiry.expire_order(db.unit_of_work(), clock, first.id or 0) is False  # not due
    clock.advance(timedelta(minutes=10))
    assert expiry.expire_overdue_orders(db.unit_of_work(), clock, batch_size=1) == 2
    assert expiry.expire_order(db.unit_of_work(), clock, first.id or 0) is False
    assert stock_of(db, product.id or 0) == 3
    catalogue.update_product(db.unit_of_work(), clock, product.id or 0,
                             catalogue.ProductChanges(stock=2))

    def apply(order: Order, tx: str) -> CallbackOutcome:
        return payments.apply_payment_callback(db.unit_of_work(), clock, callback(order, tx))

    assert apply(first, "late1") is CallbackOutcome.LATE_PAID
    assert apply(second, "late2") is CallbackOutcome.NEEDS_REFUND
    assert _status(db, first.id or 0).status is OrderStatus.SUCCESS
    flagged = _status(db, second.id or 0)
    assert (flagged.status, flagged.needs_refund) == (OrderStatus.TIMEOUT, True)
    assert stock_of(db, product.id or 0) == 0
    refunds = ordering.list_orders(db.unit_of_work(), OrderQuery(needs_refund=True))
    assert [o.id for o in refunds.items] == [second.id]
