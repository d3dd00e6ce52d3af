"""A small shop wired to the in-memory fakes, and helpers that read like the tests' prose."""

from __future__ import annotations

import copy
from datetime import timedelta

from shop_core.accounts import User
from shop_core.catalogue import Product
from shop_core.money import Money
from shop_core.orders import CartLine, Order
from shop_core.payments import CallbackOutcome, PaymentCallback
from shop_core.testing import (
    FakeClock,
    FakeExpiryScheduler,
    FakePasswordHasher,
    FakePaymentGateway,
    FakeUnitOfWork,
)
from shop_core.use_cases.accounts import Registration, register
from shop_core.use_cases.cancelling import CancelOrder, cancel_order
from shop_core.use_cases.catalogue import ProductDetails, create_product
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
        cart = tuple(CartLine(pid, quantity) for pid, quantity in lines)
        return place_order(self.uow, self.services, PlaceOrder(user_id, cart, key))

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
                 has_parent_transaction: bool = False,
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
            order_id=named, provider_order_id=provider_order_id,
        )

    def deliver(self, callback: PaymentCallback) -> CallbackOutcome:
        return apply_payment_callback(self.uow, self.clock, callback)

    def pay(self, order: Order, **kwargs: object) -> CallbackOutcome:
        return self.deliver(self.callback(order, **kwargs))  # type: ignore[arg-type]

    def cancel(self, order: Order, user_id: int | None = None, *, staff: bool = False,
               key: str | None = None) -> Order:
        assert order.id is not None
        return cancel_order(self.uow, self.clock, self.gateway,
                            CancelOrder(order.id, user_id or order.user_id, staff, key))

    def reconciler(self, **policy: object) -> Reconciler:
        """Reconciliation against the fake provider, never sleeping."""
        return Reconciler(lambda: self.uow, self.gateway, self.clock,
                          ReconcilePolicy(**policy),  # type: ignore[arg-type]
                          sleep=lambda _: None)
