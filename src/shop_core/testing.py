"""In-memory fakes of every port, for tests here and in services that use the core.

They keep state like the real adapters do (a transaction is a snapshot restored on rollback),
so a test can check what was committed rather than which methods were called."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar

from attrs import evolve

from shop_core.accounts import RefreshToken, User, UserQuery
from shop_core.catalogue import (
    Product,
    ProductOrdering,
    ProductQuery,
    Reservation,
    Shortfall,
    StockLine,
    per_product,
)
from shop_core.errors import (
    AlreadyExists,
    OutcomeUnknown,
    PaymentProviderError,
    ProviderRefused,
    TargetRefused,
)
from shop_core.events import Event
from shop_core.ledger import ASKED_FOR, MONEY_BACK, Balance, Result
from shop_core.money import Money
from shop_core.orders import InquirySelection, Order, OrderQuery, OrderStatus
from shop_core.pagination import Page, PageRequest
from shop_core.payments import (
    PaymentCallback,
    PaymentEvent,
    PaymentIntention,
    ProviderTransaction,
)
from shop_core.ports import IdempotencyRecord, UnitOfWork
from shop_core.reports import DutyRun, HourCount, MoneyBack, PaymentBacklog, StatusTotal
from shop_core.stock_audit import StockChange
from shop_core.subscriptions import (
    Attempt,
    AttemptResult,
    Claim,
    Delivery,
    DeliveryQuery,
    DeliveryStatus,
    Subscription,
)

T = TypeVar("T")


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime | None = None) -> None:
        self._now = now or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class FakePasswordHasher:
    """Reversible on purpose: tests need speed, not secrecy."""

    def hash(self, password: str) -> str:
        return f"fake${password}"

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == f"fake${password}"


class FakePaymentGateway:
    """Creates intentions in memory; `fail_next` makes the next call fail like a provider.
    Also the provider's side of reconciliation and cancellation: `payments` holds what it
    reports per order id (set by tests), `closed` the orders whose payment it closed, and
    `unreachable` makes lookups and closing fail."""

    def __init__(self) -> None:
        self.intentions: dict[int, PaymentIntention] = {}
        self.payments: dict[int, PaymentCallback] = {}
        self.closed: list[int] = []
        self.lookups: list[int] = []
        # What each order's intention was opened with: its methods and its deadline.
        self.offers: dict[int, tuple[tuple[str, ...], datetime]] = {}
        self.fail_next = False
        self.unreachable = False
        self._ids = itertools.count(1)

    def find_payment(self, order: Order) -> PaymentCallback | None:
        assert order.id is not None
        self.lookups.append(order.id)
        if self.unreachable:
            raise PaymentProviderError("The payment provider is unavailable.")
        return self.payments.get(order.id)

    def close_intention(self, order: Order) -> None:
        if self.unreachable:
            raise PaymentProviderError("The payment provider is unavailable.")
        assert order.id is not None
        self.closed.append(order.id)

    def create_intention(self, order: Order, customer: User, expires_at: datetime,
                         methods: Sequence[str] = ()) -> PaymentIntention:
        if self.fail_next:
            self.fail_next = False
            raise PaymentProviderError("The payment provider is unavailable.")
        assert order.id is not None
        number = next(self._ids)
        intention = PaymentIntention(
            intention_id=f"pi_{number}",
            checkout_url=f"https://checkout.example/?clientSecret=secret_{number}",
            provider_order_id=str(1000 + number),
        )
        self.intentions[order.id] = intention
        self.offers[order.id] = (tuple(methods), expires_at)
        return intention


class FakePaymentOperations:
    """Refunds, voids and captures in memory. `answer` is what the next call does:
    "succeed", "decline" (a declining answer), "refuse" (an HTTP refusal), or "timeout"
    (the provider may have acted). `calls` records (operation, transaction id, amount)."""

    def __init__(self) -> None:
        self.answer = "succeed"
        self.calls: list[tuple[str, str, Money | None]] = []
        self._ids = itertools.count(5001)
        # Called after the provider acted and before it answers: a test delivers the
        # operation's callback from here to play "callback before answer".
        self.before_answer: Any = None

    def refund(self, order: Order, transaction_id: str, amount: Money) -> ProviderTransaction:
        return self._do("refund", order, transaction_id, amount)

    def void(self, order: Order, transaction_id: str) -> ProviderTransaction:
        return self._do("void", order, transaction_id, None)

    def capture(self, order: Order, transaction_id: str, amount: Money) -> ProviderTransaction:
        return self._do("capture", order, transaction_id, amount)

    def _do(self, operation: str, order: Order, transaction_id: str,
            amount: Money | None) -> ProviderTransaction:
        self.calls.append((operation, transaction_id, amount))
        if self.answer == "refuse":
            raise ProviderRefused("The payment provider refused the operation (HTTP 400).")
        made = ProviderTransaction(
            transaction_id=f"op-{next(self._ids)}", amount=amount or order.total,
            success=self.answer != "decline", parent_transaction_id=transaction_id)
        if self.before_answer is not None:
            self.before_answer(made)
        if self.answer == "timeout":
            raise OutcomeUnknown("The payment provider did not answer in time.")
        return made


class FakeExpiryScheduler:
    def __init__(self) -> None:
        self.scheduled: list[tuple[int, datetime]] = []
        self.broken = False

    def schedule(self, order_id: int, at: datetime) -> None:
        if self.broken:
            raise ConnectionError("scheduler unreachable")
        self.scheduled.append((order_id, at))


class _Store:
    """Every table of the fake database; copied whole to give transactions a snapshot."""

    def __init__(self) -> None:
        self.users: dict[int, User] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.products: dict[int, Product] = {}
        self.orders: dict[int, Order] = {}
        self.payment_events: dict[int, PaymentEvent] = {}
        self.idempotency: dict[tuple[int, str], IdempotencyRecord] = {}
        self.stock_changes: list[StockChange] = []
        self.duty_runs: dict[str, DutyRun] = {}
        # Each event with when it was handed out to its subscribers (None: not yet).
        self.outbox: list[tuple[Event, datetime | None]] = []
        self.subscriptions: dict[int, Subscription] = {}
        self.deliveries: dict[int, Delivery] = {}
        self.attempts: list[Attempt] = []
        self.ids = {"users": 0, "products": 0, "orders": 0, "payment_events": 0,
                    "subscriptions": 0, "deliveries": 0}

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]


class _FakeRepository:
    """Reads and writes the store of its unit of work, only inside its `with` block (as the
    real repositories only have a connection there)."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    @property
    def _s(self) -> _Store:
        if self._uow._snapshot is None:
            raise RuntimeError("The unit of work is used outside its `with` block")
        return self._uow.store


class FakeUserRepository(_FakeRepository):

    def add(self, user: User) -> User:
        if self.get_by_username(user.username):
            raise AlreadyExists("username")
        if self.get_by_email(user.email):
            raise AlreadyExists("email")
        # Stored in lower case, as the database does: addresses compare case-insensitively.
        stored = evolve(user, id=self._s.next_id("users"), email=user.email.lower())
        self._s.users[stored.id or 0] = stored
        return copy.copy(stored)

    def get(self, user_id: int) -> User | None:
        return _copy(self._s.users.get(user_id))

    def get_by_username(self, username: str) -> User | None:
        return _copy(next((u for u in self._s.users.values() if u.username == username), None))

    def get_by_email(self, email: str) -> User | None:
        found = (u for u in self._s.users.values() if u.email.lower() == email.lower())
        return _copy(next(found, None))

    def update(self, user: User) -> None:
        other = self.get_by_email(user.email)
        if other is not None and other.id != user.id:
            raise AlreadyExists("email")
        self._s.users[user.id or 0] = evolve(user, email=user.email.lower())

    def get_many(self, user_ids: Iterable[int]) -> dict[int, User]:
        return {uid: copy.copy(self._s.users[uid]) for uid in user_ids if uid in self._s.users}

    def find(self, query: UserQuery) -> Page[User]:
        search = (query.search or "").lower()
        found = [u for u in self._s.users.values() if u.is_staff is query.is_staff
                 and (search in u.username.lower() or search in u.email.lower())]
        found.sort(key=lambda u: (u.date_joined, u.id or 0), reverse=True)
        return _page([copy.copy(u) for u in found], query.page.offset, query.page.page_size,
                     query.page)


class FakeRefreshTokenRepository(_FakeRepository):

    def add(self, token: RefreshToken) -> None:
        self._s.refresh_tokens[token.jti] = token

    def get(self, jti: str) -> RefreshToken | None:
        return self._s.refresh_tokens.get(jti)

    def revoke(self, jti: str, now: datetime) -> bool:
        token = self._s.refresh_tokens.get(jti)
        if token is None or token.revoked_at is not None:
            return False
        self._s.refresh_tokens[jti] = evolve(token, revoked_at=now)
        return True

    def revoke_family(self, family_id: str, now: datetime) -> None:
        for jti, token in list(self._s.refresh_tokens.items()):
            if token.family_id == family_id and token.revoked_at is None:
                self._s.refresh_tokens[jti] = evolve(token, revoked_at=now)


_PRODUCT_SORT: dict[ProductOrdering, tuple[str, bool]] = {
    ProductOrdering.NAME: ("name", False), ProductOrdering.NAME_DESC: ("name", True),
    ProductOrdering.PRICE: ("price", False), ProductOrdering.PRICE_DESC: ("price", True),
    ProductOrdering.CREATED: ("created_at", False),
    ProductOrdering.CREATED_DESC: ("created_at", True),
}


class FakeProductRepository(_FakeRepository):

    def add(self, product: Product) -> Product:
        stored = evolve(product, id=self._s.next_id("products"))
        self._s.products[stored.id or 0] = stored
        return copy.copy(stored)

    def get(self, product_id: int) -> Product | None:
        return _copy(self._s.products.get(product_id))

    def get_many(self, product_ids: Iterable[int]) -> dict[int, Product]:
        return {pid: copy.copy(self._s.products[pid])
                for pid in product_ids if pid in self._s.products}

    def save(self, product: Product, *, expected_version: int | None = None) -> bool:
        stored = self._s.products[product.id or 0]
        if expected_version is not None and stored.version != expected_version:
            return False
        self._s.products[product.id or 0] = evolve(product, stock=stored.stock,
                                                   version=stored.version + 1)
        return True

    def set_stock(self, product_id: int, stock: int) -> int:
        before = self._s.products[product_id].stock
        self._s.products[product_id].stock = stock
        return before

    def adjust_stock(self, product_id: int, delta: int) -> tuple[int, int] | None:
        product = self._s.products.get(product_id)
        if product is None or product.stock + delta < 0:
            return None
        before, product.stock = product.stock, product.stock + delta
        return before, product.stock

    def find(self, query: ProductQuery) -> Page[Product]:
        found = [p for p in self._s.products.values()
                 if (query.include_deleted or not p.is_deleted)
                 and (not query.in_stock or p.stock > 0)
                 and (query.stock_below is None or p.stock < query.stock_below)
                 and (not query.search or query.search.lower() in p.name.lower())]
        key, reverse = _PRODUCT_SORT[query.ordering]
        found.sort(key=lambda p: (_sort_value(getattr(p, key)), p.id), reverse=reverse)
        return _page([copy.copy(p) for p in found], query.page.offset, query.page.page_size,
                     query.page)

    def reserve(self, lines: Sequence[StockLine]) -> Reservation:
        wanted = per_product(lines)  # a product named twice must be short on its total
        shortfalls = []
        for line in wanted:
            product = self._s.products.get(line.product_id)
            available = 0 if product is None or product.is_deleted else product.stock
            if available < line.quantity:
                shortfalls.append(Shortfall(line.product_id, line.quantity, available))
        if shortfalls:
            return Reservation(shortfalls=tuple(shortfalls))
        for line in wanted:
            self._s.products[line.product_id].stock -= line.quantity
        return Reservation(sold_out=tuple(
            copy.copy(self._s.products[line.product_id]) for line in wanted
            if self._s.products[line.product_id].stock == 0))

    def release(self, lines: Sequence[StockLine]) -> None:
        for line in lines:
            self._s.products[line.product_id].stock += line.quantity


class FakeOrderRepository(_FakeRepository):

    def add(self, order: Order) -> Order:
        stored = evolve(order, id=self._s.next_id("orders"))
        self._s.orders[stored.id or 0] = stored
        return copy.copy(stored)

    def get(self, order_id: int) -> Order | None:
        return _copy(self._s.orders.get(order_id))

    def get_by_provider_order_id(self, provider_order_id: str) -> Order | None:
        found = (o for o in self._s.orders.values()
                 if o.payment and o.payment.provider_order_id == provider_order_id)
        return _copy(next(found, None))

    def find(self, query: OrderQuery) -> Page[Order]:
        found = [o for o in self._s.orders.values()
                 if (query.user_id is None or o.user_id == query.user_id)
                 and (query.status is None or o.status is query.status)
                 and (query.needs_refund is None or o.needs_refund == query.needs_refund)
                 and (query.placed_from is None or o.created_at >= query.placed_from)
                 and (query.placed_before is None or o.created_at < query.placed_before)
                 and (query.reference is None or _names(o, query.reference))]
        found.sort(key=lambda o: (o.created_at, o.id or 0), reverse=True)
        return _page([copy.copy(o) for o in found], query.page.offset, query.page.page_size,
                     query.page)

    def update(self, order: Order, *, expected_status: OrderStatus,
               expected_balance: Balance | None = None) -> bool:
        stored = self._s.orders.get(order.id or 0)
        if stored is None or stored.status is not expected_status:
            return False
        if stored.balance != (expected_balance or order.balance):
            return False
        stored.status = order.status
        stored.needs_refund = order.needs_refund
        stored.balance = order.balance
        stored.payment_state = order.payment_state
        stored.payment_reference = order.payment_reference
        stored.updated_at = order.updated_at
        return True

    def due_for_inquiry(self, selection: InquirySelection) -> list[Order]:
        due = sorted((o for o in self._s.orders.values() if selection.wants(o)),
                     key=selection.sort_key)
        return [copy.copy(o) for o in due[:selection.limit]]

    def note_payment_checked(self, order_ids: Sequence[int], now: datetime) -> None:
        for order_id in order_ids:
            self._s.orders[order_id].payment_checked_at = now

    def attach_payment(self, order_id: int, payment: PaymentIntention, now: datetime) -> None:
        stored = self._s.orders[order_id]
        stored.payment = payment
        stored.updated_at = now

    def expire_overdue(self, now: datetime, limit: int, target: OrderStatus,
                       grace: timedelta = timedelta(0),
                       among: Sequence[OrderStatus] = (OrderStatus.PENDING,),
                       ) -> list[Order]:
        # Earliest deadline first within each status, as the database picks them.
        overdue = sorted((o for o in self._s.orders.values()
                          if o.status in among and o.may_expire(now, grace)),
                         key=lambda o: (o.status.value, o.expires_at, o.id or 0))[:limit]
        for order in overdue:
            order.status = target
            order.payment_state = None
            order.updated_at = now
        return sorted((copy.copy(order) for order in overdue), key=lambda o: o.id or 0)


class FakePaymentEventRepository(_FakeRepository):

    def add(self, event: PaymentEvent) -> bool:
        if event.transaction_id is not None and self.get_by_transaction_id(
                event.transaction_id):
            return False
        self.reserve(event)
        return True

    def reserve(self, event: PaymentEvent) -> PaymentEvent:
        stored = evolve(event, id=self._s.next_id("payment_events"))
        self._s.payment_events[stored.id or 0] = stored
        return stored

    def get(self, event_id: int) -> PaymentEvent | None:
        return self._s.payment_events.get(event_id)

    def get_by_transaction_id(self, transaction_id: str) -> PaymentEvent | None:
        return next((e for e in self._s.payment_events.values()
                     if e.transaction_id == transaction_id), None)

    def update(self, event: PaymentEvent) -> bool:
        stored = self._s.payment_events.get(event.id or 0)
        if stored is None or stored.result.is_final:
            return False
        if event.transaction_id is not None:
            other = self.get_by_transaction_id(event.transaction_id)
            if other is not None and other.id != event.id:
                return False
        self._s.payment_events[event.id or 0] = event
        return True

    def list_for_order(self, order_id: int) -> list[PaymentEvent]:
        return [e for e in self._s.payment_events.values() if e.order_id == order_id]

    def unsettled(self, limit: int) -> list[PaymentEvent]:
        return [e for e in self._s.payment_events.values()
                if e.movement in ASKED_FOR and not e.result.is_final][:limit]


class FakeStockAuditRepository(_FakeRepository):

    def add(self, change: StockChange) -> bool:
        if change.request_key is not None and self.get_by_request_key(change.request_key):
            return False
        self._s.stock_changes.append(change)
        return True

    def get_by_request_key(self, request_key: str) -> StockChange | None:
        return next((c for c in self._s.stock_changes if c.request_key == request_key), None)

    def list_for_product(self, product_id: int, page: PageRequest) -> Page[StockChange]:
        found = [c for c in reversed(self._s.stock_changes) if c.product_id == product_id]
        return _page(found, page.offset, page.page_size, page)


class FakeDutyLogRepository(_FakeRepository):

    def record(self, run: DutyRun) -> None:
        self._s.duty_runs[run.name] = run

    def last(self, name: str) -> DutyRun | None:
        return self._s.duty_runs.get(name)


class FakeReportRepository(_FakeRepository):

    def status_totals(self, since: datetime) -> list[StatusTotal]:
        totals: dict[tuple[OrderStatus, str], tuple[int, int]] = {}
        for order in self._s.orders.values():
            if order.created_at >= since:
                count, value = totals.get((order.status, order.currency), (0, 0))
                totals[(order.status, order.currency)] = (count + 1, value + order.total.amount)
        return [StatusTotal(status, count, Money(value, currency))
                for (status, currency), (count, value) in sorted(
                    totals.items(), key=lambda item: (item[0][0].value, item[0][1]))]

    def money_back(self, since: datetime) -> list[MoneyBack]:
        sums: dict[str, tuple[int, int]] = {}
        for entry in self._s.payment_events.values():
            if (entry.movement in MONEY_BACK and entry.received_at >= since
                    and entry.result is Result.SUCCEEDED):
                count, amount = sums.get(entry.amount.currency, (0, 0))
                sums[entry.amount.currency] = (count + 1, amount + entry.amount.amount)
        return [MoneyBack(count, Money(amount, currency))
                for currency, (count, amount) in sorted(sums.items())]

    def orders_per_hour(self, since: datetime) -> list[HourCount]:
        hours: dict[datetime, int] = {}
        for order in self._s.orders.values():
            if order.created_at >= since:
                hour = order.created_at.astimezone(UTC).replace(minute=0, second=0,
                                                                microsecond=0)
                hours[hour] = hours.get(hour, 0) + 1
        return [HourCount(hour, count) for hour, count in sorted(hours.items())]

    def payment_backlog(self, now: datetime) -> PaymentBacklog:
        pending = [o for o in self._s.orders.values() if o.status is OrderStatus.PENDING]
        overdue = sum(1 for o in pending if o.is_overdue(now))
        return PaymentBacklog(awaiting_payment=len(pending) - overdue, overdue=overdue)


class FakeIdempotencyKeyRepository(_FakeRepository):

    def get(self, user_id: int, key: str) -> IdempotencyRecord | None:
        return self._s.idempotency.get((user_id, key))

    def add(self, record: IdempotencyRecord) -> bool:
        if (record.user_id, record.key) in self._s.idempotency:
            return False
        self._s.idempotency[(record.user_id, record.key)] = record
        return True

    def complete(self, user_id: int, key: str, status: int, body: str) -> None:
        record = self._s.idempotency[(user_id, key)]
        self._s.idempotency[(user_id, key)] = evolve(record, status=status, body=body)

    def forget(self, user_id: int, key: str) -> None:
        self._s.idempotency.pop((user_id, key), None)

    def prune(self, before: datetime, limit: int) -> int:
        old = sorted((k for k, r in self._s.idempotency.items() if r.created_at < before),
                     key=lambda k: self._s.idempotency[k].created_at)[:limit]
        for k in old:
            del self._s.idempotency[k]
        return len(old)


class FakeOutbox(_FakeRepository):

    def add(self, events: Sequence[Event]) -> None:
        self._s.outbox.extend((event, None) for event in events)

    def take(self, limit: int) -> list[Event]:
        return [event for event, handed_out in self._s.outbox if handed_out is None][:limit]

    def handed_out(self, event_ids: Sequence[str], now: datetime) -> None:
        ids = set(event_ids)
        self._s.outbox = [(event, now if event.id in ids and at is None else at)
                          for event, at in self._s.outbox]


class FakeSubscriptionRepository(_FakeRepository):

    def add(self, subscription: Subscription) -> Subscription:
        stored = evolve(subscription, id=self._s.next_id("subscriptions"))
        self._s.subscriptions[stored.id or 0] = stored
        return copy.copy(stored)

    def get(self, subscription_id: int) -> Subscription | None:
        return _copy(self._s.subscriptions.get(subscription_id))

    def find(self, page: PageRequest) -> Page[Subscription]:
        found = sorted(self._s.subscriptions.values(), key=lambda s: s.id or 0)
        return _page([copy.copy(s) for s in found], page.offset, page.page_size, page)

    def every(self) -> list[Subscription]:
        return [copy.copy(s) for s in sorted(self._s.subscriptions.values(),
                                             key=lambda s: s.id or 0)]

    def delete(self, subscription_id: int) -> bool:
        if self._s.subscriptions.pop(subscription_id, None) is None:
            return False
        gone = {d.id for d in self._s.deliveries.values()
                if d.subscription_id == subscription_id}
        self._s.deliveries = {i: d for i, d in self._s.deliveries.items() if i not in gone}
        self._s.attempts = [a for a in self._s.attempts if a.delivery_id not in gone]
        return True

    def set_state(self, subscription_id: int, *, disabled_at: datetime | None,
                  last_error: str | None) -> None:
        stored = self._s.subscriptions[subscription_id]
        stored.disabled_at = disabled_at
        stored.last_error = last_error


_UNSETTLED = (DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT)


class FakeDeliveryRepository(_FakeRepository):

    def add(self, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            stored = evolve(delivery, id=self._s.next_id("deliveries"))
            self._s.deliveries[stored.id or 0] = stored

    def get(self, delivery_id: int) -> Delivery | None:
        return _copy(self._s.deliveries.get(delivery_id))

    def find(self, query: DeliveryQuery) -> Page[Delivery]:
        found = sorted((d for d in self._s.deliveries.values()
                        if d.subscription_id == query.subscription_id),
                       key=lambda d: d.id or 0, reverse=True)
        return _page([copy.copy(d) for d in found], query.page.offset, query.page.page_size,
                     query.page)

    def attempts(self, delivery_ids: Sequence[int]) -> dict[int, list[Attempt]]:
        grouped: dict[int, list[Attempt]] = {}
        for attempt in self._s.attempts:
            if attempt.delivery_id in delivery_ids:
                grouped.setdefault(attempt.delivery_id, []).append(attempt)
        return grouped

    def claim_due(self, now: datetime, limit: int, lease_until: datetime) -> list[Claim]:
        events = {event.id: event for event, _ in self._s.outbox}
        sequence = {event.id: number for number, (event, _) in enumerate(self._s.outbox)}
        claims: list[Claim] = []
        for delivery in sorted(self._s.deliveries.values(),
                               key=lambda d: (sequence[d.event_id], d.id or 0)):
            if len(claims) == limit:
                break
            subscription = (self._s.subscriptions.get(delivery.subscription_id)
                            if delivery.subscription_id is not None else None)
            if not self._due(delivery, now) or (
                    subscription is not None and subscription.disabled_at is not None):
                continue
            if any(other.subscriber == delivery.subscriber
                   and other.order_id is not None and other.order_id == delivery.order_id
                   and sequence[other.event_id] < sequence[delivery.event_id]
                   and other.status in _UNSETTLED for other in self._s.deliveries.values()):
                continue  # an earlier event of this order is still on its way there
            delivery.status = DeliveryStatus.IN_FLIGHT
            delivery.lease_until = lease_until
            claims.append(Claim(copy.copy(delivery), events[delivery.event_id],
                                _copy(subscription)))
        return claims

    @staticmethod
    def _due(delivery: Delivery, now: datetime) -> bool:
        if delivery.status is DeliveryStatus.PENDING:
            return delivery.next_attempt_at <= now
        return (delivery.status is DeliveryStatus.IN_FLIGHT
                and delivery.lease_until is not None and delivery.lease_until <= now)

    def settle(self, delivery: Delivery, *, leased_until: datetime) -> bool:
        stored = self._s.deliveries.get(delivery.id or 0)
        if (stored is None or stored.status is not DeliveryStatus.IN_FLIGHT
                or stored.lease_until != leased_until):
            return False
        self._s.deliveries[stored.id or 0] = copy.copy(delivery)
        return True

    def add_attempt(self, attempt: Attempt) -> None:
        self._s.attempts.append(attempt)

    def save(self, delivery: Delivery) -> None:
        self._s.deliveries[delivery.id or 0] = copy.copy(delivery)


class FakeTargetCheck:
    """Refuses the targets in `refused`; every other URL passes."""

    def __init__(self, refused: Iterable[str] = ()) -> None:
        self.refused = set(refused)

    def check(self, url: str) -> None:
        if url in self.refused:
            raise TargetRefused(f"The shop does not send to {url}.")


class FakeWebhookSender:
    """Records what it sent; `answers` (a queue of results) says how each try goes, and
    an empty queue means delivered."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, Event]] = []
        self.answers: list[AttemptResult] = []

    def send(self, subscription: Subscription, event: Event) -> AttemptResult:
        self.sent.append((subscription.id or 0, event))
        if self.answers:
            return self.answers.pop(0)
        return AttemptResult(delivered=True, duration_ms=1, status_code=200)


class FakeUnitOfWork(UnitOfWork):
    """A single-threaded in-memory database: rollback restores the snapshot taken on entry."""

    def __init__(self) -> None:
        self.store = _Store()
        self.commits = 0
        self._snapshot: _Store | None = None
        self._bind()

    def _bind(self) -> None:
        self.users = FakeUserRepository(self)
        self.refresh_tokens = FakeRefreshTokenRepository(self)
        self.products = FakeProductRepository(self)
        self.orders = FakeOrderRepository(self)
        self.payment_events = FakePaymentEventRepository(self)
        self.idempotency_keys = FakeIdempotencyKeyRepository(self)
        self.stock_audit = FakeStockAuditRepository(self)
        self.duty_log = FakeDutyLogRepository(self)
        self.reports = FakeReportRepository(self)
        self.outbox = FakeOutbox(self)
        self.subscriptions = FakeSubscriptionRepository(self)
        self.deliveries = FakeDeliveryRepository(self)

    def __enter__(self) -> FakeUnitOfWork:
        if self._snapshot is not None:
            raise RuntimeError("This unit of work is already in a transaction")
        self._snapshot = copy.deepcopy(self.store)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self.rollback()
        finally:
            self._snapshot = None

    def commit(self) -> None:
        self._snapshot = copy.deepcopy(self.store)
        self.commits += 1

    def rollback(self) -> None:
        if self._snapshot is not None:
            self.store.__dict__.update(copy.deepcopy(self._snapshot).__dict__)


def _copy(item: T | None) -> T | None:
    return copy.copy(item) if item is not None else None


def _names(order: Order, reference: str) -> bool:
    """Whether `reference` is the order's id or one of its payment's references."""
    payment = order.payment
    return reference == str(order.id) or (payment is not None and reference in (
        payment.intention_id, payment.provider_order_id))


def _sort_value(value: Any) -> Any:
    return value.amount if hasattr(value, "amount") else value


def _page(items: list[Any], offset: int, size: int, request: Any) -> Page[Any]:
    return Page(items=items[offset:offset + size], count=len(items), request=request)
