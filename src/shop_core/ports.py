"""What the core needs from the outside world. Adapters implement these; the core never
imports an adapter."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol, runtime_checkable

from attrs import frozen

from shop_core.accounts import RefreshToken, User, UserQuery
from shop_core.catalogue import Product, ProductQuery, Reservation, StockLine
from shop_core.events import Event
from shop_core.ledger import Balance
from shop_core.money import Money
from shop_core.orders import InquirySelection, Order, OrderQuery, OrderStatus
from shop_core.pagination import Page, PageRequest
from shop_core.payments import (
    PaymentCallback,
    PaymentEvent,
    PaymentIntention,
    ProviderTransaction,
)
from shop_core.reports import DutyRun, HourCount, MoneyBack, PaymentBacklog, StatusTotal
from shop_core.stock_audit import StockChange
from shop_core.subscriptions import (
    Attempt,
    AttemptResult,
    Claim,
    Delivery,
    DeliveryQuery,
    Subscription,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool:
        """True when `password` matches; False (never an exception) otherwise."""
        ...


class PaymentGateway(Protocol):
    def create_intention(self, order: Order, customer: User, expires_at: datetime,
                         methods: Sequence[str] = ()) -> PaymentIntention:
        """Create the provider's payment intention for `order`, valid until `expires_at`,
        payable by `methods` (names of `shop_core.payment_methods`; empty: every method the
        provider is set up for). Raises `PaymentProviderError` on any failure; never
        retried blindly."""
        ...


class PaymentOperations(Protocol):
    """Acting on money already paid. Each call either answers the provider's new
    transaction, raises `PaymentProviderError` when the provider surely did nothing (it
    refused, or could not be reached), or `OutcomeUnknown` when it may have acted (a
    timeout). Never retried blindly: a retry could move the money twice."""

    def refund(self, order: Order, transaction_id: str, amount: Money) -> ProviderTransaction:
        """Give `amount` of the payment `transaction_id` back to the customer."""
        ...

    def void(self, order: Order, transaction_id: str) -> ProviderTransaction:
        """Cancel the payment or authorization `transaction_id` before it settles."""
        ...

    def capture(self, order: Order, transaction_id: str, amount: Money) -> ProviderTransaction:
        """Collect `amount` of the authorization `transaction_id`."""
        ...


@runtime_checkable
class IntentionCloser(Protocol):
    def close_intention(self, order: Order) -> None:
        """Stop the provider taking payment for `order` (cancelled), as far as its API
        allows. Best effort: raises `PaymentProviderError` on failure, which callers log; a
        payment that still arrives follows the late-payment rule."""
        ...


@runtime_checkable
class PaymentLookup(Protocol):
    def find_payment(self, order: Order) -> PaymentCallback | None:
        """The provider's latest transaction for `order`, as its callback would have
        reported it (None: the provider has none). Raises `PaymentProviderError` when the
        provider fails or does not answer in time; never waits unboundedly."""
        ...


class ExpiryScheduler(Protocol):
    def schedule(self, order_id: int, at: datetime) -> None:
        """Arrange for `expire_order(order_id)` to run at `at`, best effort: the periodic sweep
        expires an order whose job never runs. May raise; callers log it."""
        ...


class UserRepository(Protocol):
    def add(self, user: User) -> User:
        """Store a new user and return it with its id; `AlreadyExists` on a taken
        username or email."""
        ...

    def get(self, user_id: int) -> User | None: ...

    def get_by_username(self, username: str) -> User | None: ...

    def get_by_email(self, email: str) -> User | None:
        """Case-insensitive."""
        ...

    def update(self, user: User) -> None:
        """Write the profile fields (email, names, phone, staff flag, password hash)."""
        ...

    def get_many(self, user_ids: Iterable[int]) -> dict[int, User]: ...

    def find(self, query: UserQuery) -> Page[User]: ...


class RefreshTokenRepository(Protocol):
    def add(self, token: RefreshToken) -> None: ...

    def get(self, jti: str) -> RefreshToken | None: ...

    def revoke(self, jti: str, now: datetime) -> bool:
        """Revoke one token if it is not yet revoked; True only for the call that did it."""
        ...

    def revoke_family(self, family_id: str, now: datetime) -> None: ...


class ProductRepository(Protocol):
    def add(self, product: Product) -> Product:
        """Store a new product and return it with its id."""
        ...

    def get(self, product_id: int) -> Product | None: ...

    def get_many(self, product_ids: Iterable[int]) -> dict[int, Product]: ...

    def save(self, product: Product, *, expected_version: int | None = None) -> bool:
        """Write everything but `stock`, which only `set_stock`, `adjust_stock`, `reserve`
        and `release` change, so that an edit never overwrites a concurrent reservation; the
        stored version goes up by one. With `expected_version`, only if the stored version is
        still that one: False (nothing written) when another edit got there first."""
        ...

    def set_stock(self, product_id: int, stock: int) -> int:
        """Write a new stock figure; returns the figure it replaced."""
        ...

    def adjust_stock(self, product_id: int, delta: int) -> tuple[int, int] | None:
        """Add `delta` units (negative: take them away) atomically against concurrent
        reservations; `(before, after)`, or None when the product is unknown or holds fewer
        than `-delta` units (nothing changes then)."""
        ...

    def find(self, query: ProductQuery) -> Page[Product]: ...

    def reserve(self, lines: Sequence[StockLine]) -> Reservation:
        """Take every line's quantity from stock, all or nothing, atomically against
        concurrent callers, in ascending product-id order. Deleted products have no stock.
        When everything was reserved, the reservation names the products it left with none;
        otherwise nothing is reserved and it holds a shortfall for each line not met."""
        ...

    def release(self, lines: Sequence[StockLine]) -> None:
        """Give the lines' quantities back to stock."""
        ...


class OrderRepository(Protocol):
    def add(self, order: Order) -> Order:
        """Store a new order with its lines and return it with its id."""
        ...

    def get(self, order_id: int) -> Order | None: ...

    def get_by_provider_order_id(self, provider_order_id: str) -> Order | None: ...

    def find(self, query: OrderQuery) -> Page[Order]:
        """Newest first; lines included, in a constant number of queries per page."""
        ...

    def update(self, order: Order, *, expected_status: OrderStatus,
               expected_balance: Balance | None = None) -> bool:
        """Write status, `needs_refund`, the payment state and reference, the balance and
        `updated_at`, but only if the stored status is still `expected_status` and the
        stored balance still `expected_balance` (by default the order's own, unchanged).
        True when written; False when another writer got there first."""
        ...

    def due_for_inquiry(self, selection: InquirySelection) -> list[Order]:
        """The orders `selection.wants`, earliest deadline first, at most `selection.limit`."""
        ...

    def note_payment_checked(self, order_ids: Sequence[int], now: datetime) -> None:
        """Remember that the provider was asked about these orders' payments at `now`."""
        ...

    def attach_payment(self, order_id: int, payment: PaymentIntention, now: datetime) -> None:
        """Record the provider's intention, whatever the order's status by now."""
        ...

    def expire_overdue(self, now: datetime, limit: int, target: OrderStatus,
                       grace: timedelta = timedelta(0),
                       among: Sequence[OrderStatus] = (OrderStatus.PENDING,),
                       ) -> list[Order]:
        """Move up to `limit` orders in one of the statuses `among` that
        `Order.may_expire(now, grace)` to `target`, set-based, skipping rows another
        transaction holds; return the moved orders, as they are now, with their lines, in
        id order."""
        ...


class PaymentEventRepository(Protocol):
    def add(self, event: PaymentEvent) -> bool:
        """Record a callback; False (and nothing written) if its transaction id is known."""
        ...

    def reserve(self, event: PaymentEvent) -> PaymentEvent:
        """Record a movement the shop is about to ask the provider for (no transaction id
        yet); returns it with its id."""
        ...

    def get(self, event_id: int) -> PaymentEvent | None: ...

    def get_by_transaction_id(self, transaction_id: str) -> PaymentEvent | None: ...

    def update(self, event: PaymentEvent) -> bool:
        """Write a reserved entry's transaction id, result and callback fields, only while
        the stored entry is unsettled; False (and nothing written) when it is settled
        already, or another entry has that transaction id. Of concurrent writers settling
        one entry, exactly one succeeds: the entry is what decides who books it."""
        ...

    def list_for_order(self, order_id: int) -> list[PaymentEvent]:
        """Oldest first."""
        ...

    def unsettled(self, limit: int) -> list[PaymentEvent]:
        """Up to `limit` refunds, voids and captures the provider was asked for and has not
        settled (`pending` or `unknown`), oldest first."""
        ...


class StockAuditRepository(Protocol):
    def add(self, change: StockChange) -> bool:
        """Record a change; False (and nothing written) if its `request_key` is known."""
        ...

    def get_by_request_key(self, request_key: str) -> StockChange | None: ...

    def list_for_product(self, product_id: int, page: PageRequest) -> Page[StockChange]:
        """Newest first."""
        ...


class DutyLogRepository(Protocol):
    def record(self, run: DutyRun) -> None:
        """Remember `run` as its duty's last pass."""
        ...

    def last(self, name: str) -> DutyRun | None: ...


class ReportRepository(Protocol):
    """Figures over many orders, computed where the orders are stored."""

    def status_totals(self, since: datetime) -> list[StatusTotal]:
        """Orders placed at or after `since`, counted and valued per status and currency."""
        ...

    def money_back(self, since: datetime) -> list[MoneyBack]:
        """Refunds and voids that went through at or after `since`, per currency."""
        ...

    def orders_per_hour(self, since: datetime) -> list[HourCount]:
        """Orders placed at or after `since` per UTC hour, the hours with none left out."""
        ...

    def payment_backlog(self, now: datetime) -> PaymentBacklog: ...


@frozen
class IdempotencyRecord:
    """A user's `Idempotency-Key`: the request it was first used for (`fingerprint`) and,
    once that request finished, the answer it got, replayed to every repeat."""

    user_id: int
    key: str
    fingerprint: str
    created_at: datetime
    status: int | None = None
    body: str | None = None


class IdempotencyKeyRepository(Protocol):
    def get(self, user_id: int, key: str) -> IdempotencyRecord | None: ...

    def add(self, record: IdempotencyRecord) -> bool:
        """False (and nothing written) if the user already used this key."""
        ...

    def complete(self, user_id: int, key: str, status: int, body: str) -> None:
        """Remember the answer the key's request got."""
        ...

    def forget(self, user_id: int, key: str) -> None:
        """Drop a key whose request changed nothing, so that it may be used again."""
        ...

    def prune(self, before: datetime, limit: int) -> int:
        """Delete up to `limit` keys created before `before`; how many."""
        ...


class Outbox(Protocol):
    """Events waiting to be handed to their subscribers, written with the change."""

    def add(self, events: Sequence[Event]) -> None:
        """Write `events` in this transaction, in one statement."""
        ...

    def take(self, limit: int) -> list[Event]:
        """Up to `limit` events not yet handed out, oldest first, held by this transaction
        (rows another transaction holds are skipped); `handed_out` releases them."""
        ...

    def handed_out(self, event_ids: Sequence[str], now: datetime) -> None: ...


class SubscriptionRepository(Protocol):
    def add(self, subscription: Subscription) -> Subscription: ...

    def get(self, subscription_id: int) -> Subscription | None: ...

    def find(self, page: PageRequest) -> Page[Subscription]:
        """Oldest first."""
        ...

    def every(self) -> list[Subscription]:
        """Every subscription, disabled ones too: their deliveries wait for a replay."""
        ...

    def delete(self, subscription_id: int) -> bool:
        """Remove it with its deliveries; False if there was none."""
        ...

    def set_state(self, subscription_id: int, *, disabled_at: datetime | None,
                  last_error: str | None) -> None:
        """Record whether the target is disabled, and the last error it gave."""
        ...


class DeliveryRepository(Protocol):
    def add(self, deliveries: Sequence[Delivery]) -> None:
        """Write new deliveries in one statement."""
        ...

    def get(self, delivery_id: int) -> Delivery | None: ...

    def find(self, query: DeliveryQuery) -> Page[Delivery]:
        """One subscription's deliveries, newest first."""
        ...

    def attempts(self, delivery_ids: Sequence[int]) -> dict[int, list[Attempt]]:
        """Every attempt of these deliveries, oldest first, in one query."""
        ...

    def claim_due(self, now: datetime, limit: int, lease_until: datetime) -> list[Claim]:
        """Lease up to `limit` deliveries due by `now` (pending, or in flight with a lapsed
        lease) to this caller until `lease_until`, skipping rows another transaction holds.
        Per subscriber and order, only the earliest event not yet settled is due, so each
        receiver gets an order's events in the order they happened; deliveries to disabled
        targets are not due."""
        ...

    def settle(self, delivery: Delivery, *, leased_until: datetime) -> bool:
        """Write the delivery's outcome (status, attempts, next attempt, last result) if this
        caller still holds its lease; False when the lease lapsed and another took it."""
        ...

    def add_attempt(self, attempt: Attempt) -> None: ...

    def save(self, delivery: Delivery) -> None:
        """Write the delivery's state unconditionally (a replay staff asked for)."""
        ...


class TargetCheck(Protocol):
    def check(self, url: str) -> None:
        """Raise `TargetRefused` unless the shop may send to `url` (scheme, and where the
        name resolves to now)."""
        ...


class WebhookSender(Protocol):
    def send(self, subscription: Subscription, event: Event) -> AttemptResult:
        """POST the signed event to the subscription's target, with timeouts; never
        raises for the target's failures, which the result describes."""
        ...


class UnitOfWork(abc.ABC):
    """One transaction over every repository. Leaving the `with` block without `commit()`
    rolls back. A unit of work may be entered again after it exits: each entry is a new
    transaction."""

    users: UserRepository
    refresh_tokens: RefreshTokenRepository
    products: ProductRepository
    orders: OrderRepository
    payment_events: PaymentEventRepository
    idempotency_keys: IdempotencyKeyRepository
    stock_audit: StockAuditRepository
    duty_log: DutyLogRepository
    reports: ReportRepository
    outbox: Outbox
    subscriptions: SubscriptionRepository
    deliveries: DeliveryRepository

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.rollback()

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...
