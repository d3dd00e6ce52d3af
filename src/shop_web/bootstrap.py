"""The composition root: the one place that turns settings into real adapters."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from attrs import define, field
from flask import current_app

from shop_adapters.jobs.periodic import DELIVERY_DUTY, SWEEP_DUTY, PeriodicDuty, together
from shop_adapters.passwords import Argon2PasswordHasher
from shop_adapters.paymob.settings import PaymobSettings
from shop_adapters.sqlalchemy.database import Database
from shop_adapters.webhooks.sender import HttpWebhookSender
from shop_adapters.webhooks.targets import TargetPolicy
from shop_core.accounts import User
from shop_core.clock import SystemClock
from shop_core.ports import (
    Clock,
    ExpiryScheduler,
    PasswordHasher,
    PaymentGateway,
    UnitOfWork,
    WebhookSender,
)
from shop_core.subscriptions import Handler, RetryPolicy
from shop_core.use_cases.delivery import deliver_everything
from shop_core.use_cases.expiry import expire_overdue_orders
from shop_core.use_cases.ordering import OrderingServices
from shop_web.config import Settings
from shop_web.metrics import MeteredGateway, MovementMetrics, watch_pools
from shop_web.services import Accounts, Catalogue, Orders, Webhooks

log = logging.getLogger(__name__)

# The RQ job that expires one order (`shop_web.jobs`), named once for the queue adapter.
EXPIRE_ORDER_JOB = "shop_web.jobs.expire_order"


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
    duties: tuple[PeriodicDuty, ...] = field(init=False)

    def __attrs_post_init__(self) -> None:
        self.accounts = Accounts(self.uow, self.clock, self.hasher,
                                 self.settings.refresh_token_lifetime)
        self.catalogue = Catalogue(self.uow, self.clock)
        self.orders = Orders(self.uow, OrderingServices(
            gateway=self.gateway, scheduler=self.scheduler, clock=self.clock,
            payment_timeout=self.settings.order_payment_timeout,
            methods=self.settings.payment_methods))
        self.webhooks = Webhooks(self.uow, self.clock, self.targets)
        if self.webhook_sender is None:
            self.webhook_sender = HttpWebhookSender(self.targets)
        self.handlers = (*_mail_handlers(self), *self.extra_handlers)
        self.duties = (PeriodicDuty(SWEEP_DUTY, self.expire_overdue_orders,
                                    self.database.exclusively,
                                    self.settings.expiry_sweep_interval,
                                    "Expired %d overdue orders"),
                       # Shared, not exclusive: row locks share the outbox and the
                       # deliveries out among every process doing it.
                       PeriodicDuty(DELIVERY_DUTY, self.deliver_events, together,
                                    self.settings.event_delivery_interval,
                                    "Handed out or delivered %d events"))

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

    def expire_overdue_orders(self) -> int:
        """Time out every overdue pending order now, in this process; returns how many."""
        return expire_overdue_orders(self.uow(), self.clock)

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
        integration_ids=settings.paymob_integration_ids,
        integrations=settings.paymob_integrations,
        currency=settings.paymob_currency,
        reference_prefix=settings.paymob_reference_prefix,
        public_base_url=settings.public_base_url.rstrip("/"),
    )


def build_shop(settings: Settings, *, clock: Clock | None = None,
               gateway: PaymentGateway | None = None,
               handlers: Sequence[Handler] = ()) -> Shop:
    """Wire the real adapters for `settings`. `clock` and `gateway` may be replaced by tests
    and benchmarks, and `handlers` subscribe in-process; everything else is always real."""
    clock = clock or SystemClock()
    paymob = paymob_settings(settings)
    if gateway is None:
        gateway = _gateway(settings, paymob, clock)
    redis_client, scheduler = _scheduler(settings)
    hasher = (Argon2PasswordHasher.cheap() if settings.password_hash_profile == "cheap"
              else Argon2PasswordHasher())
    database = Database(settings.effective_database_url, observer=MovementMetrics())
    watch_pools(database)
    return Shop(settings=settings, database=database,
                clock=clock, hasher=hasher, gateway=MeteredGateway(gateway),
                scheduler=scheduler, paymob=paymob, redis=redis_client,
                targets=TargetPolicy(production=settings.is_production),
                retry_policy=RetryPolicy(lease=settings.event_delivery_lease),
                extra_handlers=tuple(handlers))


def _gateway(settings: Settings, paymob: PaymobSettings, clock: Clock) -> PaymentGateway:
    if settings.paymob_mode == "live":
        from shop_adapters.paymob.gateway import PaymobGateway

        return PaymobGateway(paymob, clock)
    from shop_adapters.paymob.sandbox import SandboxGateway

    return SandboxGateway(paymob, clock)


def _scheduler(settings: Settings) -> tuple[Any, ExpiryScheduler]:
    if not settings.redis_url:
        return None, NoExpiryScheduler()
    from shop_adapters.jobs.queue import RqExpiryScheduler, connect

    # Fail-fast timeouts: placing an order talks to Redis after its commit, and a hung Redis
    # must not hold the request (the sweep expires orders it could not schedule).
    client = connect(settings.redis_url)
    return client, RqExpiryScheduler(client, EXPIRE_ORDER_JOB)
