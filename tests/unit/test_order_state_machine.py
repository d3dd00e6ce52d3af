"""Orders, payments, expiry and admin stock edits in any order, against the fakes.

After every step: no stock is negative; every unit is either on the shelf or held by exactly
the orders whose status holds stock (pending, success); each order only ever moved along the
transition table; and no order gave its stock back more than once."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from shop_core.catalogue import OutOfStock
from shop_core.errors import Conflict, IdempotencyMismatch, PaymentProviderError, ValidationError
from shop_core.money import Money
from shop_core.orders import OrderStatus
from shop_core.payments import CallbackOutcome, PaymentCallback
from shop_core.use_cases.catalogue import ProductChanges, delete_product, update_product
from shop_core.use_cases.expiry import expire_order, expire_overdue_orders

from .builders import Shop

S = OrderStatus
# Every status an order may go to from another in one step (the table, closed over retakes).
ALLOWED_MOVES = {
    (S.PENDING, S.SUCCESS), (S.PENDING, S.FAILED), (S.PENDING, S.TIMEOUT),
    (S.TIMEOUT, S.SUCCESS), (S.FAILED, S.SUCCESS),
    (S.PENDING, S.CANCELLED), (S.CANCELLED, S.SUCCESS),
}
PRODUCTS = 3


class OrderLifecycle(RuleBasedStateMachine):
    orders = Bundle("orders")
    callbacks = Bundle("callbacks")

    def __init__(self) -> None:
        super().__init__()
        self.shop = Shop()
        self.products: list[int] = []
        self.expected_supply: dict[int, int] = {}  # initial stock + admin deltas
        self.seen_status: dict[int, OrderStatus] = {}
        self.releases: Counter[int] = Counter()
        self.paid_transactions: dict[int, set[str]] = {}
        self.transactions: set[str] = set()

    @initialize(stocks=st.lists(st.integers(0, 6), min_size=PRODUCTS, max_size=PRODUCTS))
    def open_the_shop(self, stocks: list[int]) -> None:
        for number, stock in enumerate(stocks):
            pid = self.shop.add_product(f"Product {number}", f"{number + 1}.25", stock)
            self.products.append(pid)
            self.expected_supply[pid] = stock
        self.customers = [self.shop.add_customer("alice"), self.shop.add_customer("bob")]

    # --- customers -----------------------------------------------------------------------

    @rule(target=orders,
          lines=st.lists(st.tuples(st.integers(0, PRODUCTS - 1), st.integers(1, 4)),
                         min_size=1, max_size=4),
          customer=st.integers(0, 1),
          key=st.none() | st.sampled_from(["k1", "k2"]),
          gateway_fails=st.booleans())
    def place_order(self, lines: list[tuple[int, int]], customer: int, key: str | None,
                    gateway_fails: bool) -> int | None:
        self.shop.gateway.fail_next = gateway_fails
        before = len(self.shop.uow.store.orders)
        try:
            order = self.shop.place(self.customers[customer],
                                    *((self.products[i], q) for i, q in lines), key=key)
        except (OutOfStock, IdempotencyMismatch, ValidationError):
            assert len(self.shop.uow.store.orders) == before
            return None
        except PaymentProviderError:
            [order_id] = set(self.shop.uow.store.orders) - set(self.seen_status)
            assert self.shop.order(order_id).status is S.FAILED
            return order_id
        finally:
            self.shop.gateway.fail_next = False
        assert order.id is not None
        return order.id

    def _send(self, order_id: int | None, *, success: bool = True, pending: bool = False,
              amount: Money | None = None, refund: bool = False) -> PaymentCallback | None:
        if order_id is None:
            return None
        order = self.shop.order(order_id)
        callback = self.shop.callback(order, success=success, pending=pending, amount=amount,
                                      is_refund=refund, has_parent_transaction=refund)
        outcome = self.shop.deliver(callback)
        assert outcome is not CallbackOutcome.DUPLICATE
        self.transactions.add(callback.ledger_key)
        if outcome in (CallbackOutcome.PAID, CallbackOutcome.LATE_PAID,
                       CallbackOutcome.NEEDS_REFUND):
            self.paid_transactions.setdefault(order_id, set()).add(callback.transaction_id)
        if outcome is CallbackOutcome.PAID:
            assert order.status is S.PENDING
        if outcome is CallbackOutcome.LATE_PAID:
            assert order.status in (S.TIMEOUT, S.FAILED, S.CANCELLED)
        return callback

    @rule(target=callbacks, order=orders)
    def pay(self, order: int | None) -> PaymentCallback | None:
        return self._send(order)

    @rule(target=callbacks, order=orders)
    def decline(self, order: int | None) -> PaymentCallback | None:
        return self._send(order, success=False)

    @rule(target=callbacks, order=orders)
    def still_pending(self, order: int | None) -> PaymentCallback | None:
        return self._send(order, success=False, pending=True)

    @rule(target=callbacks, order=orders)
    def pay_the_wrong_amount(self, order: int | None) -> PaymentCallback | None:
        return self._send(order, amount=Money(1, "EGP"))

    @rule(target=callbacks, order=orders)
    def refund(self, order: int | None) -> PaymentCallback | None:
        return self._send(order, refund=True)

    @rule(callback=callbacks)
    def replay(self, callback: PaymentCallback | None) -> None:
        if callback is None:
            return
        before = copy.deepcopy(self.shop.uow.store.__dict__)
        assert self.shop.deliver(callback) is CallbackOutcome.DUPLICATE
        assert self.shop.uow.store.__dict__ == before

    @rule(callback=callbacks, success=st.booleans())
    def replay_with_other_content(self, callback: PaymentCallback | None,
                                  success: bool) -> None:
        if callback is None:
            return
        before = copy.deepcopy(self.shop.uow.store.__dict__)
        # Same transaction, same pending-ness (a pending notice and the final outcome of one
        # transaction are distinct ledger entries), any other content.
        stale = PaymentCallback(
            callback.transaction_id, callback.amount, success, callback.pending, False, False,
            False, callback.order_id, callback.provider_order_id)
        assert self.shop.deliver(stale) is CallbackOutcome.DUPLICATE
        assert self.shop.uow.store.__dict__ == before

    # --- time ----------------------------------------------------------------------------

    @rule(order=orders)
    def customer_cancels(self, order: int | None) -> None:
        if order is None:
            return
        pending = self.shop.order(order).status is S.PENDING
        try:
            self.shop.cancel(self.shop.order(order))
        except Conflict:
            assert not pending
        else:
            assert pending and self.shop.order(order).status is S.CANCELLED

    @rule(seconds=st.integers(1, 900))
    def time_passes(self, seconds: int) -> None:
        self.shop.clock.advance(timedelta(seconds=seconds))

    @rule(order=orders)
    def expiry_job_runs(self, order: int | None) -> None:
        if order is None:
            return
        was_overdue = self.shop.order(order).is_overdue(self.shop.clock.now())
        assert expire_order(self.shop.uow, self.shop.clock, order) == was_overdue

    @rule()
    def sweep(self) -> None:
        now = self.shop.clock.now()
        overdue = sum(o.is_overdue(now) for o in self.shop.uow.store.orders.values())
        assert expire_overdue_orders(self.shop.uow, self.shop.clock, batch_size=2) == overdue

    # --- admins --------------------------------------------------------------------------

    @rule(product=st.integers(0, PRODUCTS - 1), stock=st.integers(0, 8))
    def admin_sets_stock(self, product: int, stock: int) -> None:
        pid = self.products[product]
        old = self.shop.stock(pid)
        update_product(self.shop.uow, self.shop.clock, pid, ProductChanges(stock=stock))
        self.expected_supply[pid] += stock - old

    @rule(product=st.integers(0, PRODUCTS - 1))
    def admin_renames(self, product: int) -> None:
        pid = self.products[product]
        update_product(self.shop.uow, self.shop.clock, pid, ProductChanges(name="Renamed"))

    @precondition(lambda self: self.products and not any(
        self.shop.uow.store.products[pid].is_deleted for pid in self.products))
    @rule(product=st.integers(0, PRODUCTS - 1))
    def admin_deletes(self, product: int) -> None:
        delete_product(self.shop.uow, self.shop.clock, self.products[product])

    # --- invariants ----------------------------------------------------------------------

    @invariant()
    def stock_is_never_negative(self) -> None:
        for pid in self.products:
            assert self.shop.stock(pid) >= 0

    @invariant()
    def every_unit_is_on_the_shelf_or_held_by_a_live_order(self) -> None:
        held: Counter[int] = Counter()
        for order in self.shop.uow.store.orders.values():
            if order.status.holds_stock:
                for line in order.lines:
                    held[line.product_id] += line.quantity
        for pid in self.products:
            assert self.shop.stock(pid) + held[pid] == self.expected_supply[pid]

    @invariant()
    def orders_move_only_along_the_table_and_release_at_most_once(self) -> None:
        for order_id, order in self.shop.uow.store.orders.items():
            assert isinstance(order.status, OrderStatus)
            previous = self.seen_status.get(order_id, S.PENDING)
            if order.status is not previous:
                assert (previous, order.status) in ALLOWED_MOVES
                if previous.holds_stock and not order.status.holds_stock:
                    self.releases[order_id] += 1
            self.seen_status[order_id] = order.status
            assert self.releases[order_id] <= 1

    @invariant()
    def paid_orders_and_refund_flags_have_a_successful_payment_behind_them(self) -> None:
        for order_id, order in self.shop.uow.store.orders.items():
            if order.status is S.SUCCESS or order.needs_refund:
                assert self.paid_transactions.get(order_id)
            if order.needs_refund and order.status is S.SUCCESS:
                assert len(self.paid_transactions[order_id]) >= 2

    @invariant()
    def every_callback_is_in_the_ledger_exactly_once(self) -> None:
        assert set(self.shop.uow.store.payment_events) == self.transactions


OrderLifecycle.TestCase.settings = settings(
    max_examples=120, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_order_lifecycle = OrderLifecycle.TestCase
