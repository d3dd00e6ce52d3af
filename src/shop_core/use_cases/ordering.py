"""Placing orders and reading them back.

Placing an order is where money, stock and a network call meet: the reservation and the
`pending` order are committed first, the provider is called outside any transaction (so no
row lock is held across it), then the outcome is recorded in a second transaction."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from attrs import frozen

from shop_core.accounts import User
from shop_core.catalogue import OutOfStock
from shop_core.errors import (
    NotFound,
    PaymentProviderError,
)
from shop_core.events import EventType
from shop_core.orders import (
    CartLine,
    Order,
    OrderEvent,
    OrderQuery,
    merge_cart,
    new_order,
    order_lines,
    stock_lines,
)
from shop_core.pagination import Page
from shop_core.payment_methods import Offer, PaymentMethods
from shop_core.ports import (
    Clock,
    ExpiryScheduler,
    PaymentGateway,
    UnitOfWork,
)
from shop_core.use_cases.transitions import announce, move, publish_sold_out

log = logging.getLogger(__name__)

DEFAULT_PAYMENT_TIMEOUT = timedelta(minutes=10)


@frozen
class PlaceOrder:
    """A customer's request to buy the cart, paying by `payment_method` (None: any of the
    default-window methods). (Retries are made safe by the request's idempotency key,
    `shop_core.use_cases.idempotency`, like every money-moving request.)"""

    user_id: int
    cart: tuple[CartLine, ...]
    payment_method: str | None = None


@frozen
class OrderingServices:
    """What placing an order talks to besides the database."""

    gateway: PaymentGateway
    scheduler: ExpiryScheduler
    clock: Clock
    payment_timeout: timedelta = DEFAULT_PAYMENT_TIMEOUT
    # The methods the shop takes; None: card only, with `payment_timeout` as its window.
    methods: PaymentMethods | None = None

    @property
    def payment_methods(self) -> PaymentMethods:
        return self.methods or PaymentMethods.card_only(self.payment_timeout)


def place_order(uow: UnitOfWork, services: OrderingServices, command: PlaceOrder, *,
                customer: User | None = None) -> Order:
    """Reserve the cart's stock, save the order `pending`, and open its payment.

    The order holds its stock for the payment window of the method it is opened with.
    Raises `ValidationError` for a bad cart or a payment method the shop does not take (or
    one that needs a phone the customer has not given), `OutOfStock` when any line cannot be
    met (nothing is reserved then), and `PaymentProviderError` when the provider fails (the
    order is then `failed`, its stock back). `customer`, the user `command.user_id` names,
    saves reading it again when the caller already has it (the provider needs the
    customer's name, email and phone).
    """
    cart = merge_cart(command.cart)
    if customer is None or customer.id != command.user_id:
        with uow:
            customer = uow.users.get(command.user_id)
        if customer is None:
            raise NotFound("The customer's account no longer exists.")
    order, offer = _reserve_and_save(uow, services, command, cart, customer)
    assert order.id is not None
    try:
        payment = services.gateway.create_intention(order, customer, order.expires_at,
                                                    offer.names)
    except PaymentProviderError:
        _fail_unopened_order(uow, services.clock, order)
        raise
    with uow:
        uow.orders.attach_payment(order.id, payment, services.clock.now())
        uow.commit()
    order.payment = payment
    _schedule_expiry(services.scheduler, order)
    return order


def _reserve_and_save(uow: UnitOfWork, services: OrderingServices, command: PlaceOrder,
                      cart: Sequence[CartLine], customer: User) -> tuple[Order, Offer]:
    """Transaction one: the `pending` order, its reservation, its events, and the payment
    methods it is opened with."""
    with uow:
        offer = services.payment_methods.offer(command.payment_method, customer)
        products = uow.products.get_many(line.product_id for line in cart)
        lines = order_lines(cart, products)
        now = services.clock.now()
        order = uow.orders.add(new_order(command.user_id, lines, now, now + offer.window,
                                         command.payment_method))
        announce(uow, EventType.ORDER_PLACED, order, now)
        # Reserve last, right before the commit: the product rows stay locked for as short
        # a time as possible, which is what bounds the rate of a popular product. (So the
        # event is written before; only a sell-out, once per product, writes more while the
        # rows are held.)
        reservation = uow.products.reserve(stock_lines(lines))
        if not reservation.complete:
            # Leaving the block rolls the order and its event back too.
            raise OutOfStock(reservation.shortfalls)
        publish_sold_out(uow, reservation, order, now)
        uow.commit()
        return order, offer


def _fail_unopened_order(uow: UnitOfWork, clock: Clock, order: Order) -> None:
    """Transaction two when the provider failed: `failed`, and the stock comes back."""
    with uow:
        stored = uow.orders.get(order.id or 0)
        if stored is None or not stored.can(OrderEvent.GATEWAY_FAILED):
            return  # something else (expiry, a callback) already settled it
        if move(uow, stored, OrderEvent.GATEWAY_FAILED, clock.now()) is None:
            return  # lost to a concurrent callback or expiry, which settled the stock
        uow.commit()


def _schedule_expiry(scheduler: ExpiryScheduler, order: Order) -> None:
    assert order.id is not None
    try:
        scheduler.schedule(order.id, order.expires_at)
    except Exception:
        # The order stands; the periodic sweep expires it if this job never runs.
        log.warning("Could not schedule expiry of order %s; the sweep will catch it",
                    order.id, exc_info=True)


def list_orders(uow: UnitOfWork, query: OrderQuery) -> Page[Order]:
    with uow:
        return uow.orders.find(query)


def get_order(uow: UnitOfWork, order_id: int, *, user_id: int | None) -> Order:
    """An order by id. With `user_id`, only that user's: anyone else's is `NotFound`."""
    with uow:
        order = uow.orders.get(order_id)
    if order is None or (user_id is not None and order.user_id != user_id):
        raise NotFound("Order not found.")
    return order

