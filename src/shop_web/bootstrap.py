"""The composition root: the one place that turns settings into real adapters."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import define, evolve, field
from flask import current_app

from shop_adapters.jobs.periodic import (
    DELIVERY_DUTY,
    PRUNE_KEYS_DUTY,
    RECONCILE_DUTY,
    SWEEP_DUTY,
    PeriodicDuty,
    together,
)
from shop_adapters.passwords import Argon2PasswordHasher
from shop_adapters.paymob.settings import PaymobSettings
from shop_adapters.sqlalchemy.database import Database
from shop_adapters.webhooks.sender import HttpWebhookSender
from shop_adapters.webhooks.targets import TargetPolicy
from shop_core.accounts import User
from shop_core.clock import SystemClock
from shop_core.orders import Order
from shop_core.ports import (
    Clock,
    ExpiryScheduler,
    IntentionCloser,
    PasswordHasher,
    PaymentGateway,
    PaymentLookup,
    PaymentOperations,
    UnitOfWork,
    WebhookSender,
)
from shop_core.subscriptions import Handler, RetryPolicy
from shop_core.use_cases.delivery import deliver_everything
from shop_core.use_cases.expiry import (
    NO_GRACE,
    SWEEP_BATCH_SIZE,
    expire_order,
    expire_overdue_orders,
)
from shop_core.use_cases.idempotency import prune_keys
from shop_core.use_cases.operations import OperationServices
from shop_core.use_cases.ordering import OrderingServices
from shop_core.use_cases.reconciliation import ReconcilePolicy, Reconciler, ReconcileReport
from shop_web.config import Settings
from shop_web.metrics import MeteredGateway, MeteredLookup, MovementMetrics, watch_pools
from shop_web.services import Accounts, Catalogue, Orders, Webhooks

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from shop_adapters.paymob.sandbox import SandboxLedger

# The RQ job that expires one order (`shop_web.jobs`), named once for the queue adapter.
EXPIRE_ORDER_JOB = "shop_web.jobs.expire_order"
# Idempotency keys live a day; pruning them now and then is plenty.
PRUNE_KEYS_INTERVAL_SECONDS = 600.0


class NoIntentionCloser:
    """For a gateway that cannot close intentions: a late payment follows the late-payment
    rule anyway."""

    def close_intention(self, order: Order) -> None:
        return None


class NoExpiryScheduler:
    """Without Redis there is no job queue: the in-process sweep expires orders instead."""

    def schedule(self, order_id: int, at: datetime) -> None:
        return None


@define
class Shop:
    """Everything a request, a job or a command needs, wired once per process."""

    settings: Settings
    database: Database
    clock: Clock
    hasher: PasswordHasher
    gateway: PaymentGateway
    scheduler: ExpiryScheduler
    paymob: PaymobSettings
    operations: PaymentOperations
    closer: IntentionCloser
    # None: the shop cannot ask its provider (live Paymob without PAYMOB_API_KEY), so
    # nothing is reconciled and expiry is exact.
    lookup: PaymentLookup | None = None
    redis: Any = None
    targets: TargetPolicy = field(default=TargetPolicy(production=True))
    webhook_sender: WebhookSender | None = None
    retry_policy: RetryPolicy = RetryPolicy()
    # In-process subscribers besides the shop's own e-mail (a test's, an embedding service's).
    extra_handlers: tuple[Handler, ...] = ()
    accounts: Accounts = field(init=False)
    catalogue: Catalogue = field(init=False)
    orders: Orders = field(init=False)
    webhooks: Webhooks = field(init=False)
    handlers: tuple[Handler, ...] = field(init=False)
    reconciler: Reconciler | None = field(init=False)
    duties: tuple[PeriodicDuty, ...] = field(init=False)

    def __attrs_post_init__(self) -> None:
        self.accounts = Accounts(self.uow, self.clock, self.hasher,
                                 self.settings.refresh_token_lifetime)
        self.catalogue = Catalogue(self.uow, self.clock)
        self.orders = Orders(self.uow, OrderingServices(
            gateway=self.gateway, scheduler=self.scheduler, clock=self.clock,
            payment_timeout=self.settings.order_payment_timeout,
            methods=self.settings.payment_methods), self.closer,
            OperationServices(self.operations, self.clock))
        self.webhooks = Webhooks(self.uow, self.clock, self.targets)
        if self.webhook_sender is None:
            self.webhook_sender = HttpWebhookSender(self.targets)
        self.handlers = (*_mail_handlers(self), *self.extra_handlers)
        self.reconciler = None if self.lookup is None else Reconciler(
            self.uow, self.lookup, self.clock, self._reconcile_policy())
        sweep = PeriodicDuty(SWEEP_DUTY, self.expire_overdue_orders, self.database.exclusively,
                             self.settings.expiry_sweep_interval, "Expired %d overdue orders")
        prune = PeriodicDuty(PRUNE_KEYS_DUTY, self.prune_idempotency_keys,
                             self.database.exclusively, PRUNE_KEYS_INTERVAL_SECONDS,
                             "Pruned %d idempotency keys past their day")
        # Shared, not exclusive: row locks share the outbox and the deliveries out among
        # every process doing it.
        delivery = PeriodicDuty(DELIVERY_DUTY, self.deliver_events, together,
                                self.settings.event_delivery_interval,
                                "Handed out or delivered %d events")
        reconcile = () if self.reconciler is None else (PeriodicDuty(
            RECONCILE_DUTY, lambda: self.reconcile().changed, self.database.exclusively,
            self.settings.reconcile_interval, "Reconciliation changed %d orders"),)
        self.duties = (sweep, prune, *reconcile, delivery)

    def _reconcile_policy(self) -> ReconcilePolicy:
        policy = ReconcilePolicy(grace=self.settings.reconcile_grace)
        if self.settings.paymob_mode == "live":
            return policy
        # Offline answers cost nothing: no pace, and batches as large as the sweep's, so
        # that a burst of abandoned orders expires as promptly as without reconciliation.
        return evolve(policy, spacing=0.0, batch_size=SWEEP_BATCH_SIZE)

    def uow(self, *, read_only: bool = False) -> UnitOfWork:
        return self.database.unit_of_work(read_only=read_only)

    def reader(self) -> UnitOfWork:
        """A read-only unit of work, for pages that change nothing."""
        return self.database.unit_of_work(read_only=True)

    def start_duties(self) -> None:
        """Do the shop's periodic duties (the expiry sweep) on threads of this process."""
        for duty in self.duties:
            duty.start()

    def stop_duties(self) -> None:
        for duty in self.duties:
            duty.stop()

    @property
    def expiry_grace(self) -> timedelta:
        """How long an overdue order with an opened payment waits for the provider."""
        return NO_GRACE if self.reconciler is None else self.settings.reconcile_grace

    def expire_overdue_orders(self) -> int:
        """Time out every overdue pending order now, in this process; returns how many.
        Those whose payment was opened are asked about first (bounded: see
        `shop_core.use_cases.reconciliation`), so a paid one whose callback was lost is
        paid, not timed out."""
        if self.reconciler is not None:
            self.reconciler.reconcile_overdue()
        return expire_overdue_orders(self.uow(), self.clock, grace=self.expiry_grace)

    def expire_order(self, order_id: int) -> bool:
        """Time out one order at its deadline, after asking about its payment; True if
        this call did."""
        if self.reconciler is not None:
            self.reconciler.give_chance(order_id)
        return expire_order(self.uow(), self.clock, order_id, self.expiry_grace)

    def reconcile(self, since: timedelta | None = None) -> ReconcileReport:
        """Ask the provider about every order due for it (see `Reconciler.reconcile`)."""
        if self.reconciler is None:
            return ReconcileReport()
        return self.reconciler.reconcile(since)

    def prune_idempotency_keys(self) -> int:
        """Delete the idempotency keys older than a day; returns how many."""
        return prune_keys(self.uow(), self.clock)

    def deliver_events(self) -> int:
        """Hand out the outbox and send the deliveries due, in this process; how many."""
        return deliver_everything(self.uow(), self.clock, self.handlers,
                                  sender=self.webhook_sender, policy=self.retry_policy)

    def customer(self, user_id: int) -> User | None:
        with self.reader() as uow:
            return uow.users.get(user_id)

    @property
    def queue_name(self) -> str:
        from shop_adapters.jobs.queue import DEFAULT_QUEUE, RqExpiryScheduler

        scheduler = self.scheduler
        return scheduler.queue_name if isinstance(scheduler, RqExpiryScheduler) else DEFAULT_QUEUE


def current_shop() -> Shop:
    """The shop the running Flask app serves (`create_app` binds it)."""
    shop = current_app.extensions[_EXTENSION]
    assert isinstance(shop, Shop)
    return shop


def bind(app: Any, shop: Shop) -> None:
    """Make `shop` the one `current_shop()` answers inside `app`."""
    app.extensions[_EXTENSION] = shop


_EXTENSION = "shop"


def _mail_handlers(shop: Shop) -> tuple[Handler, ...]:
    """The customers' e-mails: through SMTP_URL; without it, into the log, except in
    production, where they are not sent (and the start-up log says so)."""
    from shop_adapters.mail.orders import OrderMail
    from shop_adapters.mail.smtp import LogMailer, Mailer, SmtpMailer

    settings = shop.settings
    mailer: Mailer
    if settings.smtp_url:
        mailer = SmtpMailer(settings.smtp_url)
    elif settings.is_production:
        log.warning("SMTP_URL is not set: customers get no e-mail")
        return ()
    else:
        mailer = LogMailer()
    return (OrderMail(mailer, shop.customer, sender=settings.mail_from).handler(),)


def paymob_settings(settings: Settings) -> PaymobSettings:
    return PaymobSettings(
        api_base=settings.paymob_base_url,
        secret_key=settings.paymob_secret_key,
        public_key=settings.paymob_public_key,
        hmac_secret=settings.paymob_hmac_secret,
        api_key=settings.paymob_api_key,
        integration_ids=settings.paymob_integration_ids,
        integrations=settings.paymob_integrations,
        currency=settings.paymob_currency,
        reference_prefix=settings.paymob_reference_prefix,
        public_base_url=settings.public_base_url.rstrip("/"),
    )


def build_shop(settings: Settings, *, clock: Clock | None = None,
               gateway: PaymentGateway | None = None,
               operations: PaymentOperations | None = None,
               handlers: Sequence[Handler] = ()) -> Shop:
    """Wire the real adapters for `settings`. `clock`, `gateway` and `operations` may be
    replaced by tests and benchmarks (a replacement gateway that also closes intentions and
    answers inquiries, like `shop_core.testing.FakePaymentGateway`, does those too), and
    `handlers` subscribe in-process; everything else is real."""
    clock = clock or SystemClock()
    paymob = paymob_settings(settings)
    if gateway is None:
        gateway = _gateway(settings, paymob, clock)
    if operations is None:
        operations = _operations(settings, paymob, clock)
    closer = gateway if isinstance(gateway, IntentionCloser) else NoIntentionCloser()
    lookup = gateway if isinstance(gateway, PaymentLookup) else _lookup(settings, paymob,
                                                                         clock)
    redis_client, scheduler = _scheduler(settings)
    hasher = (Argon2PasswordHasher.cheap() if settings.password_hash_profile == "cheap"
              else Argon2PasswordHasher())
    database = Database(settings.effective_database_url, observer=MovementMetrics())
    watch_pools(database)
    return Shop(settings=settings, database=database,
                clock=clock, hasher=hasher, gateway=MeteredGateway(gateway),
                scheduler=scheduler, paymob=paymob, operations=operations, closer=closer,
                lookup=MeteredLookup(lookup) if lookup is not None else None,
                redis=redis_client,
                targets=TargetPolicy(production=settings.is_production),
                retry_policy=RetryPolicy(lease=settings.event_delivery_lease),
                extra_handlers=tuple(handlers))


def _gateway(settings: Settings, paymob: PaymobSettings, clock: Clock) -> PaymentGateway:
    if settings.paymob_mode == "live":
        from shop_adapters.paymob.gateway import PaymobGateway

        return PaymobGateway(paymob, clock)
    from shop_adapters.paymob.sandbox import SandboxGateway

    return SandboxGateway(paymob, clock)


def _operations(settings: Settings, paymob: PaymobSettings,
                clock: Clock) -> PaymentOperations:
    if settings.paymob_mode == "live":
        from shop_adapters.paymob.operations import PaymobOperations

        return PaymobOperations(paymob)
    from shop_adapters.paymob.sandbox import SandboxOperations

    return SandboxOperations(paymob, clock, sandbox_ledger(settings))


def sandbox_ledger(settings: Settings) -> SandboxLedger:
    """The sandbox Paymob's record of its transactions, shared by the shop's processes."""
    from shop_adapters.paymob.sandbox import SANDBOX_LEDGER_FILE, SandboxLedger

    return SandboxLedger(Path(settings.instance_path).resolve() / SANDBOX_LEDGER_FILE)


def _lookup(settings: Settings, paymob: PaymobSettings, clock: Clock) -> PaymentLookup | None:
    if settings.paymob_mode == "live":
        if not paymob.api_key:
            return None
        from shop_adapters.paymob.inquiry import PaymobLookup

        return PaymobLookup(paymob, clock)
    from shop_adapters.paymob.sandbox import SandboxLookup

    return SandboxLookup(paymob, sandbox_ledger(settings))


def _scheduler(settings: Settings) -> tuple[Any, ExpiryScheduler]:
    if not settings.redis_url:
        return None, NoExpiryScheduler()
    from shop_adapters.jobs.queue import RqExpiryScheduler, connect

    # Fail-fast timeouts: placing an order talks to Redis after its commit, and a hung Redis
    # must not hold the request (the sweep expires orders it could not schedule).
    client = connect(settings.redis_url)
    return client, RqExpiryScheduler(client, EXPIRE_ORDER_JOB)
