"""Orders, their lines, and the one transition table every change of status goes through.

Stock is held by an order exactly while its status is `pending`, `authorized` or `success`;
each transition says whether it releases that stock or must take it again, so conditional
status changes are what makes a release happen at most once. A refund without restocking
keeps the stock out: the goods went to the customer."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from attrs import define, frozen

from shop_core import money
from shop_core.catalogue import Product, StockLine
from shop_core.errors import IllegalTransition, Rule, ValidationError, Violation
from shop_core.ledger import Balance
from shop_core.money import Money
from shop_core.pagination import PageRequest
from shop_core.payments import PaymentIntention, PaymentState

MAX_CART_LINES = 100
MAX_LINE_QUANTITY = 1_000_000


class OrderStatus(enum.Enum):
    PENDING = "pending"
    SUCCESS = "success"
    FAILED = "failed"
    TIMEOUT = "timeout"
    AUTHORIZED = "authorized"
    REFUNDED = "refunded"
    VOIDED = "voided"
    CANCELLED = "cancelled"

    @property
    def holds_stock(self) -> bool:
        return self in (OrderStatus.PENDING, OrderStatus.AUTHORIZED, OrderStatus.SUCCESS)


class OrderEvent(enum.Enum):
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_DECLINED = "payment_declined"
    GATEWAY_FAILED = "gateway_failed"
    EXPIRED = "expired"
    PAYMENT_AUTHORIZED = "payment_authorized"
    CAPTURED = "captured"
    REFUNDED = "refunded"
    REFUNDED_RESTOCKED = "refunded_restocked"
    VOIDED = "voided"
    CANCEL = "cancel"


class StockEffect(enum.Enum):
    KEEP = "keep"
    RELEASE = "release"
    RETAKE = "retake"


@frozen
class Transition:
    target: OrderStatus
    stock: StockEffect


_S, _E = OrderStatus, OrderEvent
TRANSITIONS: dict[tuple[OrderStatus, OrderEvent], Transition] = {
    (_S.PENDING, _E.PAYMENT_SUCCEEDED): Transition(_S.SUCCESS, StockEffect.KEEP),
    (_S.PENDING, _E.PAYMENT_DECLINED): Transition(_S.FAILED, StockEffect.RELEASE),
    (_S.PENDING, _E.GATEWAY_FAILED): Transition(_S.FAILED, StockEffect.RELEASE),
    (_S.PENDING, _E.EXPIRED): Transition(_S.TIMEOUT, StockEffect.RELEASE),
    # The customer let the order go: its stock is for others again at once.
    (_S.PENDING, _E.CANCEL): Transition(_S.CANCELLED, StockEffect.RELEASE),
    # A late payment must not be lost: the order is paid if its stock can be taken again.
    (_S.TIMEOUT, _E.PAYMENT_SUCCEEDED): Transition(_S.SUCCESS, StockEffect.RETAKE),
    (_S.FAILED, _E.PAYMENT_SUCCEEDED): Transition(_S.SUCCESS, StockEffect.RETAKE),
    # An authorization holds the customer's money and the stock until it is captured.
    (_S.PENDING, _E.PAYMENT_AUTHORIZED): Transition(_S.AUTHORIZED, StockEffect.KEEP),
    (_S.AUTHORIZED, _E.CAPTURED): Transition(_S.SUCCESS, StockEffect.KEEP),
    (_S.AUTHORIZED, _E.EXPIRED): Transition(_S.TIMEOUT, StockEffect.RELEASE),
    (_S.AUTHORIZED, _E.VOIDED): Transition(_S.VOIDED, StockEffect.RELEASE),
    # Captured in the provider's dashboard after the order timed out: a late payment.
    (_S.TIMEOUT, _E.CAPTURED): Transition(_S.SUCCESS, StockEffect.RETAKE),
    # Money going back. Everything captured went back: `refunded`, the goods staying with
    # the customer unless staff restock them. A void cancels the payment and returns stock.
    (_S.SUCCESS, _E.REFUNDED): Transition(_S.REFUNDED, StockEffect.KEEP),
    (_S.SUCCESS, _E.REFUNDED_RESTOCKED): Transition(_S.REFUNDED, StockEffect.RELEASE),
    (_S.SUCCESS, _E.VOIDED): Transition(_S.VOIDED, StockEffect.RELEASE),
    # A payment the shop could not honour (flagged `needs_refund`) holds no stock.
    (_S.TIMEOUT, _E.REFUNDED): Transition(_S.REFUNDED, StockEffect.KEEP),
    (_S.FAILED, _E.REFUNDED): Transition(_S.REFUNDED, StockEffect.KEEP),
    (_S.TIMEOUT, _E.VOIDED): Transition(_S.VOIDED, StockEffect.KEEP),
    (_S.FAILED, _E.VOIDED): Transition(_S.VOIDED, StockEffect.KEEP),
    (_S.CANCELLED, _E.REFUNDED): Transition(_S.REFUNDED, StockEffect.KEEP),
    (_S.CANCELLED, _E.VOIDED): Transition(_S.VOIDED, StockEffect.KEEP),
    # Paid after all (the checkout was still open at the provider when the customer cancelled).
    (_S.CANCELLED, _E.PAYMENT_SUCCEEDED): Transition(_S.SUCCESS, StockEffect.RETAKE),
}


def expiring_statuses() -> tuple[OrderStatus, ...]:
    """The statuses an order times out of when its deadline passes unpaid."""
    return tuple(status for status, event in TRANSITIONS if event is OrderEvent.EXPIRED)


def transition_for(status: OrderStatus, event: OrderEvent) -> Transition:
    """The move `event` makes from `status`; raises `IllegalTransition` if there is none."""
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise IllegalTransition(
            f"An order that is {status.value} cannot take {event.value}."
        ) from None


@frozen
class CartLine:
    """One line of a customer's cart, before validation."""

    product_id: int
    quantity: int


@frozen
class OrderLine:
    """A product as it was ordered: name and unit price are captured at order time."""

    product_id: int
    name: str
    unit_price: Money
    quantity: int

    @property
    def line_total(self) -> Money:
        return self.unit_price.times(self.quantity)


@define
class Order:
    """A customer's order. Its status changes only through `apply`, which use cases reach
    through `shop_core.use_cases.transitions.move`."""

    id: int | None
    user_id: int
    status: OrderStatus
    lines: tuple[OrderLine, ...]
    currency: str
    expires_at: datetime
    created_at: datetime
    updated_at: datetime
    payment: PaymentIntention | None = None
    needs_refund: bool = False
    balance: Balance = Balance()
    # What the provider last said of a payment still under way (a kiosk bill issued, an
    # instalment plan awaiting approval), and the reference the customer pays with, if any.
    payment_state: PaymentState | None = None
    payment_reference: str | None = None
    # When the shop last asked the provider about this order's payment (reconciliation).
    payment_checked_at: datetime | None = None
    # The method the customer chose to pay by; None: any of the default-window methods.
    payment_method: str | None = None

    @property
    def total(self) -> Money:
        return money.total([line.line_total for line in self.lines], self.currency)

    @property
    def stock_lines(self) -> list[StockLine]:
        return stock_lines(self.lines)

    @property
    def paid_amount(self) -> Money:
        return Money(self.balance.paid, self.currency)

    @property
    def refunded_amount(self) -> Money:
        return Money(self.balance.refunded, self.currency)

    def can(self, event: OrderEvent) -> bool:
        return (self.status, event) in TRANSITIONS

    # What staff may be offered to do with the order's money; the use cases, reading the
    # ledger, have the last word.
    @property
    def may_refund(self) -> bool:
        return self.balance.refundable > 0

    @property
    def may_void(self) -> bool:
        holding = self.status is OrderStatus.AUTHORIZED or self.balance.paid > 0
        return self.can(OrderEvent.VOIDED) and holding and self.balance.voidable

    @property
    def may_capture(self) -> bool:
        return self.status is OrderStatus.AUTHORIZED and not self.balance.held

    def apply(self, event: OrderEvent, now: datetime) -> Transition:
        """Move through the transition table; the caller acts on the returned stock effect."""
        move = transition_for(self.status, event)
        self.status = move.target
        self.payment_state = None  # the payment is no longer under way, whatever it was
        self.updated_at = now
        return move

    def await_payment(self, state: PaymentState, reference: str | None,
                      now: datetime) -> None:
        """The provider reports the payment under way (`state`), payable with `reference`;
        the order keeps its status and its stock until its deadline."""
        self.payment_state = state
        self.payment_reference = reference or self.payment_reference
        self.updated_at = now

    def flag_for_refund(self, now: datetime) -> None:
        """The shop was paid for this order but cannot honour it: a person must refund it."""
        self.needs_refund = True
        self.updated_at = now

    def is_overdue(self, now: datetime) -> bool:
        # An authorization whose capture (or void) is under way waits for its outcome.
        return (self.status in expiring_statuses() and now >= self.expires_at
                and not self.balance.held)

    def may_expire(self, now: datetime, grace: timedelta) -> bool:
        """Overdue, and the provider had its chance to report a payment whose callback was
        lost: the order's payment was never opened, the shop asked after the deadline, or
        the deadline is `grace` behind (the provider may be down: it must not hold stock)."""
        return self.is_overdue(now) and (
            self.payment is None
            or (self.payment_checked_at is not None
                and self.payment_checked_at >= self.expires_at)
            or self.expires_at <= now - grace)


def merge_cart(cart: Sequence[CartLine]) -> list[CartLine]:
    """Validate a cart and merge lines naming the same product, in product-id order."""
    if not cart:
        raise ValidationError({"cart_items": [Violation(Rule.NO_ITEMS)]})
    if len(cart) > MAX_CART_LINES:
        raise ValidationError({"cart_items": [Violation(Rule.TOO_MANY_ITEMS, MAX_CART_LINES)]})
    merged: dict[int, int] = {}
    for line in cart:
        merged[line.product_id] = merged.get(line.product_id, 0) + line.quantity
    bad = [pid for pid, quantity in merged.items() if not 1 <= quantity <= MAX_LINE_QUANTITY]
    if bad or any(line.quantity < 1 for line in cart):
        raise ValidationError(
            {"cart_items": [Violation(Rule.QUANTITY_RANGE, MAX_LINE_QUANTITY)]})
    return [CartLine(pid, merged[pid]) for pid in sorted(merged)]


def order_lines(cart: Iterable[CartLine], products: dict[int, Product]) -> list[OrderLine]:
    """Capture each product's current name and price; refuse unknown or deleted products."""
    lines, missing = [], []
    for line in cart:
        product = products.get(line.product_id)
        if product is None or product.is_deleted:
            missing.append(line.product_id)
            continue
        lines.append(OrderLine(line.product_id, product.name, product.price, line.quantity))
    if missing:
        raise ValidationError(
            {"cart_items": [Violation(Rule.UNKNOWN_PRODUCTS, tuple(missing))]})
    if len({line.unit_price.currency for line in lines}) > 1:
        raise ValidationError({"cart_items": [Violation(Rule.MIXED_CURRENCIES)]})
    return lines


def stock_lines(lines: Iterable[OrderLine]) -> list[StockLine]:
    """The stock the lines hold, in ascending product-id order (the order locks are taken in)."""
    return sorted((StockLine(line.product_id, line.quantity) for line in lines),
                  key=lambda line: line.product_id)


def new_order(user_id: int, lines: Sequence[OrderLine], now: datetime,
              expires_at: datetime, payment_method: str | None = None) -> Order:
    """A `pending` order holding its lines' stock until `expires_at`."""
    return Order(
        id=None, user_id=user_id, status=OrderStatus.PENDING, lines=tuple(lines),
        currency=lines[0].unit_price.currency, expires_at=expires_at,
        created_at=now, updated_at=now, payment_method=payment_method,
    )


@frozen
class InquirySelection:
    """Which orders reconciliation asks the provider about, at `now`: those with an opened
    payment that are pending and due within `lead`, and those that timed out or were
    cancelled after `since` (None: none of them), or that hold money for a refund, void or
    capture whose outcome the provider has not told (`unknown`), none asked within the
    last `recheck`; and, before all others, every overdue pending one not asked since its
    deadline (its expiry waits for that answer). At most `limit`, pending first, earliest
    deadline first."""

    now: datetime
    lead: timedelta
    since: datetime | None
    recheck: timedelta
    limit: int

    def wants(self, order: Order) -> bool:
        if order.payment is None or order.id is None:
            return False
        checked = order.payment_checked_at
        rested = checked is None or checked <= self.now - self.recheck
        if order.balance.held:
            return rested
        if order.status is OrderStatus.PENDING:
            if order.expires_at <= self.now:  # overdue: its expiry waits for this answer
                return checked is None or checked < order.expires_at
            due = order.expires_at <= self.now + self.lead
        else:
            due = (self.since is not None
                   and order.status in (OrderStatus.TIMEOUT, OrderStatus.CANCELLED)
                   and order.updated_at >= self.since)
        return due and rested

    def sort_key(self, order: Order) -> tuple[bool, datetime, int]:
        return (order.status is not OrderStatus.PENDING, order.expires_at, order.id or 0)


@frozen
class OrderQuery:
    """Which orders a listing shows: one customer's (`user_id`) or everyone's (staff), placed
    in `[placed_from, placed_before)`, and `reference`: the order's id or a payment
    reference the provider gave it."""

    user_id: int | None = None
    status: OrderStatus | None = None
    needs_refund: bool | None = None
    placed_from: datetime | None = None
    placed_before: datetime | None = None
    reference: str | None = None
    page: PageRequest = PageRequest()
