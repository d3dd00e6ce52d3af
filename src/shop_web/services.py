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
from shop_core.payments import CallbackOutcome, PaymentCallback
from shop_core.ports import Clock, IntentionCloser, PasswordHasher, TargetCheck, UnitOfWork
from shop_core.subscriptions import Delivery, Subscription
from shop_core.use_cases import (
    accounts,
    cancelling,
    catalogue,
    ordering,
    payments,
    subscriptions,
)


def new_token_id() -> str:
    return uuid.uuid4().hex


@frozen
class Accounts:
    """Signing up, signing in and refreshing sessions."""

    uow: Callable[[], UnitOfWork]
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

    def refresh(self, jti: str) -> tuple[User, RefreshToken]:
        return accounts.rotate_refresh_token(self.uow(), self.clock, jti,
                                             self.refresh_lifetime, self.new_id)


@frozen
class Catalogue:
    """An admin's changes to the catalogue."""

    uow: Callable[[], UnitOfWork]
    clock: Clock

    def create(self, details: catalogue.ProductDetails) -> Product:
        return catalogue.create_product(self.uow(), self.clock, details)

    def update(self, product_id: int, changes: catalogue.ProductChanges) -> Product:
        return catalogue.update_product(self.uow(), self.clock, product_id, changes)

    def delete(self, product_id: int) -> None:
        catalogue.delete_product(self.uow(), self.clock, product_id)


@frozen
class Orders:
    """Placing orders and settling their payments."""

    uow: Callable[[], UnitOfWork]
    services: ordering.OrderingServices
    closer: IntentionCloser

    def cancel(self, command: cancelling.CancelOrder) -> Order:
        return cancelling.cancel_order(self.uow(), self.services.clock, self.closer, command)

    def place(self, command: ordering.PlaceOrder, customer: User | None = None) -> Order:
        return ordering.place_order(self.uow(), self.services, command, customer=customer)

    def apply_callback(self, callback: PaymentCallback) -> CallbackOutcome:
        return payments.apply_payment_callback(self.uow(), self.services.clock, callback)


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
