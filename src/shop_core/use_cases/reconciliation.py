"""Reconciliation: asking the provider about payments instead of waiting for callbacks.

A lost callback must never lose a payment. The shop asks the provider (`PaymentLookup`)
about orders whose payment was opened and that are about to expire, are overdue, or timed
out or were cancelled recently; whatever the provider reports goes through exactly the path
a callback takes (`apply_payment_callback`, deduplicated by transaction id), so a payment
found makes the order `success` (or flags it) and the callback that turns up later changes
nothing. Refunds whose outcome is unknown join the selection once the shop records refunds.

Bounded, whatever the provider does: at most `batch_size` orders a pass, inquiries spaced
`spacing` seconds apart, a pass stops after `budget` seconds, and after `threshold` failures
in a row the breaker stops asking for `cooldown`. Overdue orders wait for an answer at most
`grace` (see `shop_core.use_cases.expiry`), so an outage delays expiry, never blocks it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from attrs import define, field, frozen

from shop_core.errors import PaymentProviderError, ShopError, Unavailable
from shop_core.orders import InquirySelection, Order
from shop_core.payments import CallbackOutcome
from shop_core.ports import Clock, PaymentLookup, UnitOfWork
from shop_core.use_cases.payments import apply_payment_callback

log = logging.getLogger(__name__)


@frozen
class ReconcilePolicy:
    """How far reconciliation looks and how hard it may press the provider."""

    # Pending orders are asked about from this long before their deadline.
    lead: timedelta = timedelta(seconds=60)
    # Timed-out and cancelled orders are asked about while they are this recent.
    window: timedelta = timedelta(minutes=30)
    # An order is not asked about again sooner than this (overdue ones excepted: see
    # `InquirySelection`).
    recheck: timedelta = timedelta(minutes=10)
    # How long an overdue order with an opened payment waits for the provider's answer.
    grace: timedelta = timedelta(seconds=60)
    batch_size: int = 50
    spacing: float = 0.2
    budget: float = 10.0
    threshold: int = 3
    cooldown: timedelta = timedelta(seconds=60)


@define
class InquiryBreaker:
    """Stops inquiries for `cooldown` after `threshold` failures in a row; the first
    inquiry after the cooldown decides whether it closes again."""

    clock: Clock
    threshold: int
    cooldown: timedelta
    _failures: int = 0
    _open_until: datetime | None = None

    def allows(self) -> bool:
        return self._open_until is None or self.clock.now() >= self._open_until

    def succeeded(self) -> None:
        self._failures, self._open_until = 0, None

    def failed(self) -> None:
        self._failures += 1
        if self._failures >= self.threshold:
            if self._open_until is None or self.clock.now() >= self._open_until:
                log.warning("The payment provider failed %d inquiries in a row; not asking "
                            "for %s", self._failures, self.cooldown)
            self._open_until = self.clock.now() + self.cooldown


@frozen
class ReconcileReport:
    """One pass: how many orders were asked about, how many of them the answer changed,
    how many inquiries failed, and how many due orders were left for a later pass."""

    asked: int = 0
    changed: int = 0
    failed: int = 0
    left: int = 0


# Outcomes that changed an order (or its flag, or its payment state).
_CHANGES = frozenset({CallbackOutcome.PAID, CallbackOutcome.LATE_PAID,
                      CallbackOutcome.DECLINED, CallbackOutcome.NEEDS_REFUND,
                      CallbackOutcome.STILL_PENDING})


@define
class Reconciler:
    """Reconciliation bound to its provider, clock and policy, with the breaker and pace
    that must outlive a single pass (one per process)."""

    uow: Callable[[], UnitOfWork]
    lookup: PaymentLookup
    clock: Clock
    policy: ReconcilePolicy = ReconcilePolicy()
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    breaker: InquiryBreaker = field(init=False)
    _last_inquiry: float | None = field(init=False, default=None)
    # The sweep and the reconciliation duty share one reconciler (and its pace) per process.
    _pace_lock: threading.Lock = field(init=False, factory=threading.Lock)

    def __attrs_post_init__(self) -> None:
        self.breaker = InquiryBreaker(self.clock, self.policy.threshold, self.policy.cooldown)

    def reconcile(self, since: timedelta | None = None) -> ReconcileReport:
        """One pass over the orders due for an inquiry (timed-out and cancelled ones back
        to `since`, by default the policy's window)."""
        now = self.clock.now()
        return self._pass(InquirySelection(
            now=now, lead=self.policy.lead, since=now - (since or self.policy.window),
            recheck=self.policy.recheck, limit=self.policy.batch_size))

    def reconcile_overdue(self) -> ReconcileReport:
        """Only the overdue pending orders whose expiry waits for the provider's answer."""
        return self._pass(InquirySelection(
            now=self.clock.now(), lead=timedelta(0), since=None, recheck=self.policy.recheck,
            limit=self.policy.batch_size))

    def give_chance(self, order_id: int) -> None:
        """Ask about one overdue order whose expiry waits for the provider's answer (its
        own expiry job is due), unless it does not wait or the breaker is open."""
        now = self.clock.now()
        with self.uow() as uow:
            order = uow.orders.get(order_id)
        selection = InquirySelection(now=now, lead=timedelta(0), since=None,
                                     recheck=self.policy.recheck, limit=1)
        if order is not None and selection.wants(order) and self.breaker.allows() \
                and self._ask(order) is not None:
            self._note_checked([order_id])

    def _pass(self, selection: InquirySelection) -> ReconcileReport:
        with self.uow() as uow:
            due = uow.orders.due_for_inquiry(selection)
        if not due:
            return ReconcileReport()
        started = self.monotonic()
        answered: list[int] = []
        changed = failed = 0
        for order in due:
            if not self.breaker.allows() or self.monotonic() - started > self.policy.budget:
                break
            outcome = self._ask(order)
            if outcome is None:
                failed += 1
                continue
            answered.append(order.id or 0)
            changed += outcome in _CHANGES
        self._note_checked(answered)
        report = ReconcileReport(asked=len(answered), changed=changed, failed=failed,
                                 left=len(due) - len(answered) - failed)
        if report.changed or report.failed:
            log.info("Reconciliation asked about %d orders: %d changed, %d inquiries failed, "
                     "%d left for later", report.asked, changed, failed, report.left)
        return report

    def _ask(self, order: Order) -> CallbackOutcome | None:
        """Ask about one order and apply the answer; the outcome (`IGNORED` when the
        provider has no payment), or None when the inquiry failed."""
        self._pace()
        try:
            found = self.lookup.find_payment(order)
        except PaymentProviderError as error:
            self.breaker.failed()
            log.warning("Payment inquiry for order %s failed: %s", order.id, error)
            return None
        self.breaker.succeeded()
        if found is None:
            return CallbackOutcome.IGNORED
        try:
            return apply_payment_callback(self.uow(), self.clock, found)
        except (ShopError, Unavailable) as error:
            log.warning("Could not apply the payment inquiry for order %s: %s", order.id,
                        error.detail)
            return None

    def _note_checked(self, order_ids: list[int]) -> None:
        """One transaction for the whole pass: an overdue order may expire once noted."""
        if not order_ids:
            return
        try:
            with self.uow() as uow:
                uow.orders.note_payment_checked(order_ids, self.clock.now())
                uow.commit()
        except Unavailable:
            pass  # asked again next pass; the grace bounds the wait meanwhile

    def _pace(self) -> None:
        with self._pace_lock:
            now = self.monotonic()
            if self._last_inquiry is not None:
                wait = self._last_inquiry + self.policy.spacing - now
                if wait > 0:
                    self.sleep(wait)
                    now += wait
            self._last_inquiry = now
