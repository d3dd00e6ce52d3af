"""The shop's use cases bound to the running shop's adapters, once per process.

Views, the CLI and jobs call these with the request's own values only; the clocks, hashers,
gateways, lifetimes and id sources are the composition root's business (`bootstrap`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from attrs import frozen

from shop_core.accounts import RefreshToken, User
from shop_core.catalogue import Product
from shop_core.orders import Order
from shop_core.payments import CallbackOutcome, PaymentCallback, PaymentEvent
from shop_core.ports import Clock, IntentionCloser, PasswordHasher, TargetCheck, UnitOfWork
from shop_core.subscriptions import Delivery, Subscription
from shop_core.use_cases import (
    accounts,
    cancelling,
    catalogue,
    operations,
    ordering,
    payments,
    subscriptions,
)


def new_token_id() -> str:
    return uuid.uuid4().hex


@frozen
class Accounts:
    """Signing up, signing in and refreshing sessions."""

    uow: Callable[..., UnitOfWork]
    clock: Clock
    hasher: PasswordHasher
    refresh_lifetime: timedelta
    new_id: Callable[[], str] = new_token_id

    def register(self, registration: accounts.Registration) -> User:
        return accounts.register(self.uow(), self.hasher, self.clock, registration)

    def sign_in(self, username: str, password: str) -> tuple[User, RefreshToken]:
        """The user these credentials belong to, and the first token of a new session."""
        user = accounts.authenticate(self.uow(), self.hasher, username, password)
        assert user.id is not None
        session = accounts.start_session(self.uow(), self.clock, user.id,
                                         self.refresh_lifetime, self.new_id)
        return user, session

    def staff_sign_in(self, username: str, password: str,
                      lifetime: timedelta) -> tuple[User, RefreshToken]:
        """A staff member's back-office session; a customer is refused before one starts."""
        user = accounts.authenticate_staff(self.uow(), self.hasher, username, password)
        assert user.id is not None
        session = accounts.start_session(self.uow(), self.clock, user.id, lifetime,
                                         self.new_id)
        return user, session

    def staff_member(self, session_id: str) -> User | None:
        """Who the back-office session is, while it lasts; None once it has ended."""
        return accounts.staff_session_user(self.uow(read_only=True), self.clock, session_id)

    def sign_out(self, session_id: str) -> None:
        accounts.end_session(self.uow(), self.clock, session_id)

    def refresh(self, jti: str) -> tuple[User, RefreshToken]:
        return accounts.rotate_refresh_token(self.uow(), self.clock, jti,
                                             self.refresh_lifetime, self.new_id)


@frozen
class Catalogue:
    """Staff's changes to the catalogue; `by` is the staff member's user id, recorded with
    every change of stock."""

    uow: Callable[[], UnitOfWork]
    clock: Clock

    def create(self, details: catalogue.ProductDetails, *, by: int | None = None,
               request_key: str | None = None) -> Product:
        return catalogue.create_product(self.uow(), self.clock, details, by=by,
                                        request_key=request_key)

    def update(self, product_id: int, changes: catalogue.ProductChanges, *,
               by: int | None = None, expected_version: int | None = None) -> Product:
        return catalogue.update_product(self.uow(), self.clock, product_id, changes, by=by,
                                        expected_version=expected_version)

    def delete(self, product_id: int) -> None:
        catalogue.delete_product(self.uow(), self.clock, product_id)

    def restore(self, product_id: int) -> Product:
        return catalogue.restore_product(self.uow(), self.clock, product_id)

    def adjust_stock(self, product_id: int, delta: int, reason: str, *, by: int,
                     request_key: str) -> catalogue.StockAdjusted:
        return catalogue.adjust_stock(self.uow(), self.clock, product_id, delta, reason,
                                      by=by, request_key=request_key)


@frozen
class Orders:
    """Placing orders, settling their payments, and staff moving their money afterwards."""

    uow: Callable[[], UnitOfWork]
    services: ordering.OrderingServices
    closer: IntentionCloser
    money: operations.OperationServices

    def cancel(self, command: cancelling.CancelOrder) -> Order:
        return cancelling.cancel_order(self.uow(), self.services.clock, self.closer, command)

    def place(self, command: ordering.PlaceOrder, customer: User | None = None) -> Order:
        return ordering.place_order(self.uow(), self.services, command, customer=customer)

    def apply_callback(self, callback: PaymentCallback) -> CallbackOutcome:
        return payments.apply_payment_callback(self.uow(), self.services.clock, callback)

    def refund(self, command: operations.Refund) -> PaymentEvent:
        return operations.refund_order(self.uow(), self.money, command)

    def void(self, command: operations.Void) -> PaymentEvent:
        return operations.void_order(self.uow(), self.money, command)

    def capture(self, command: operations.Capture) -> PaymentEvent:
        return operations.capture_order(self.uow(), self.money, command)


@frozen
class Webhooks:
    """Staff's changes to webhook subscriptions."""

    uow: Callable[[], UnitOfWork]
    clock: Clock
    targets: TargetCheck

    def subscribe(self, command: subscriptions.Subscribe) -> Subscription:
        return subscriptions.subscribe(self.uow(), self.clock, self.targets, command)

    def unsubscribe(self, subscription_id: int) -> None:
        subscriptions.unsubscribe(self.uow(), subscription_id)

    def replay(self, subscription_id: int, delivery_id: int) -> Delivery:
        return subscriptions.replay_delivery(self.uow(), self.clock, subscription_id,
                                             delivery_id)
