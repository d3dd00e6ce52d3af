"""A small shop wired to the in-memory fakes, and helpers that read like the tests' prose."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta

from shop_core.accounts import User
from shop_core.catalogue import OutOfStock, Product
from shop_core.errors import Conflict, NotFound, PaymentProviderError, ValidationError
from shop_core.ledger import Balance, Movement, Result
from shop_core.money import Money
from shop_core.orders import CartLine, Order, merge_cart
from shop_core.payments import CallbackOutcome, PaymentCallback
from shop_core.testing import (
    FakeClock,
    FakeExpiryScheduler,
    FakePasswordHasher,
    FakePaymentGateway,
    FakePaymentOperations,
    FakeUnitOfWork,
)
from shop_core.use_cases import idempotency
from shop_core.use_cases.accounts import Registration, register
from shop_core.use_cases.cancelling import CancelOrder, cancel_order
from shop_core.use_cases.catalogue import ProductDetails, create_product
from shop_core.use_cases.operations import OperationServices
from shop_core.use_cases.ordering import OrderingServices, PlaceOrder, place_order
from shop_core.use_cases.payments import apply_payment_callback
from shop_core.use_cases.reconciliation import ReconcilePolicy, Reconciler

TIMEOUT = timedelta(minutes=10)


def egp(text: str) -> Money:
    return Money.parse(text, "EGP")


class Shop:
    """Every fake port, plus shortcuts for the steps tests repeat."""

    def __init__(self) -> None:
        self.uow = FakeUnitOfWork()
        self.clock = FakeClock()
        self.hasher = FakePasswordHasher()
        self.gateway = FakePaymentGateway()
        self.scheduler = FakeExpiryScheduler()
        self.services = OrderingServices(
            gateway=self.gateway, scheduler=self.scheduler, clock=self.clock,
            payment_timeout=TIMEOUT,
        )
        self.operations = FakePaymentOperations()
        self.operation_services = OperationServices(self.operations, self.clock)
        self._transactions = 0

    def add_product(self, name: str = "Mug", price: str = "100.00", stock: int = 10,
                    description: str = "") -> int:
        product = create_product(self.uow, self.clock,
                                 ProductDetails(name, egp(price), stock, description))
        assert product.id is not None
        return product.id

    def add_customer(self, username: str = "alice") -> int:
        user = register(self.uow, self.hasher, self.clock,
                        Registration(username, f"{username}@example.com", "correct horse"))
        assert user.id is not None
        return user.id

    def place(self, user_id: int, *lines: tuple[int, int], key: str | None = None) -> Order:
        """Place an order; with `key`, as the web edge does (see `_once`)."""
        cart = tuple(CartLine(pid, quantity) for pid, quantity in lines)
        return self._once(user_id, key, repr(merge_cart(cart)), lambda: place_order(
            self.uow, self.services, PlaceOrder(user_id, cart)))

    def _once(self, user_id: int, key: str | None, fingerprint: str,
              run: Callable[[], Order]) -> Order:
        """`run()`; with `key`, as the web edge does: claim the key first, replay the first
        answer (here the order id) to a repeat, and free the key of a refusal."""
        if key is None:
            return run()
        answer = idempotency.claim(self.uow, self.clock, user_id, key, fingerprint)
        if answer is not None and answer.status == 502:
            raise PaymentProviderError(answer.body)
        if answer is not None:
            return self.order(int(answer.body))
        try:
            order = run()
        except (OutOfStock, ValidationError, Conflict, NotFound):
            idempotency.release(self.uow, user_id, key)
            raise
        except PaymentProviderError as failed:
            idempotency.remember(self.uow, user_id, key, idempotency.Answer(502, failed.detail))
            raise
        idempotency.remember(self.uow, user_id, key, idempotency.Answer(201, str(order.id)))
        return order

    def stock(self, product_id: int) -> int:
        return self.uow.store.products[product_id].stock

    # Copies, so that a test holding one sees what was stored then, not later writes.
    def product(self, product_id: int) -> Product:
        return copy.deepcopy(self.uow.store.products[product_id])

    def order(self, order_id: int | None) -> Order:
        assert order_id is not None
        return copy.deepcopy(self.uow.store.orders[order_id])

    def user(self, user_id: int) -> User:
        return copy.deepcopy(self.uow.store.users[user_id])

    def new_transaction_id(self) -> str:
        self._transactions += 1
        return f"tx-{self._transactions}"

    def callback(self, order: Order, *, transaction_id: str | None = None,
                 success: bool = True, pending: bool = False, amount: Money | None = None,
                 is_refund: bool = False, is_void: bool = False,
                 has_parent_transaction: bool = False, is_auth: bool = False,
                 is_capture: bool = False, parent_transaction_id: str | None = None,
                 by_provider_order_id: bool = False) -> PaymentCallback:
        """A verified callback about `order`, naming its id unless it is matched by the
        provider's order id."""
        assert order.id is not None
        provider_order_id = None
        named: int | None = order.id
        if by_provider_order_id:
            assert order.payment is not None
            provider_order_id = order.payment.provider_order_id
            named = None
        return PaymentCallback(
            transaction_id=transaction_id or self.new_transaction_id(),
            amount=amount if amount is not None else order.total,
            success=success, pending=pending, is_refund=is_refund, is_void=is_void,
            has_parent_transaction=has_parent_transaction,
            order_id=named, provider_order_id=provider_order_id, is_auth=is_auth,
            is_capture=is_capture, parent_transaction_id=parent_transaction_id,
        )

    def deliver(self, callback: PaymentCallback) -> CallbackOutcome:
        return apply_payment_callback(self.uow, self.clock, callback)

    def pay(self, order: Order, **kwargs: object) -> CallbackOutcome:
        return self.deliver(self.callback(order, **kwargs))  # type: ignore[arg-type]

    def cancel(self, order: Order, user_id: int | None = None, *, staff: bool = False,
               key: str | None = None) -> Order:
        """Cancel `order`; with `key`, as the web edge does (see `place`)."""
        assert order.id is not None
        owner = user_id or order.user_id
        command = CancelOrder(order.id, owner, staff)
        return self._once(owner, key, f"cancel {order.id}",
                          lambda: cancel_order(self.uow, self.clock, self.gateway, command))

    def reconciler(self, **policy: object) -> Reconciler:
        """Reconciliation against the fake provider, never sleeping."""
        return Reconciler(lambda: self.uow, self.gateway, self.clock,
                          ReconcilePolicy(**policy),  # type: ignore[arg-type]
                          sleep=lambda _: None)


def ledger_sums(uow: FakeUnitOfWork, order_id: int) -> Balance:
    """What an order's ledger adds up to, computed from its entries alone: succeeded
    payments and captures paid, succeeded refunds and voids (of what was paid) back, and
    unsettled movements the shop started held."""
    paid = refunded = held = 0
    for entry in sorted(uow.store.payment_events.values(), key=lambda e: e.id or 0):
        if entry.order_id != order_id:
            continue
        if entry.result in (Result.PENDING, Result.UNKNOWN) and entry.started_by is not None:
            held += entry.amount.amount
        elif entry.result is Result.SUCCEEDED and entry.movement in (Movement.PAYMENT,
                                                                    Movement.CAPTURE):
            paid += entry.amount.amount
        elif entry.result is Result.SUCCEEDED and entry.movement is Movement.REFUND:
            refunded += entry.amount.amount
        elif entry.result is Result.SUCCEEDED and entry.movement is Movement.VOID:
            refunded = paid
    return Balance(paid, refunded, held)
