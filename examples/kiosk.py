"""A point-of-sale kiosk: another service built on `shop_core` with adapters of its own.

The kiosk sells over the counter. Payment is cash handed to the cashier, so its payment
gateway opens a "cash drawer" instead of calling Paymob, and the cashier confirms the payment
by feeding the same verified-callback use case the web shop uses. Storage is the core's
in-memory unit of work; a real kiosk would plug in its own repositories the same way.

Run it: .venv/bin/python examples/kiosk.py
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime

from shop_core.accounts import User
from shop_core.clock import SystemClock
from shop_core.money import Money
from shop_core.orders import CartLine, Order
from shop_core.payments import PaymentCallback, PaymentIntention
from shop_core.testing import FakePasswordHasher, FakeUnitOfWork
from shop_core.use_cases.accounts import Registration, register
from shop_core.use_cases.catalogue import ProductDetails, create_product
from shop_core.use_cases.ordering import OrderingServices, PlaceOrder, place_order
from shop_core.use_cases.payments import apply_payment_callback


class CashDrawerGateway:
    """The kiosk's `PaymentGateway`: a numbered cash-drawer slip instead of a web checkout."""

    def __init__(self) -> None:
        self._slips = itertools.count(1)

    def create_intention(self, order: Order, customer: User, expires_at: datetime,
                         methods: Sequence[str] = ()) -> PaymentIntention:
        slip = next(self._slips)
        return PaymentIntention(intention_id=f"slip-{slip}", checkout_url=f"drawer://slip/{slip}")


class NoExpiry:
    """Counter sales are paid on the spot: nothing to expire."""

    def schedule(self, order_id: int, at: datetime) -> None:
        return None


def sell_over_the_counter() -> Order:
    uow, clock = FakeUnitOfWork(), SystemClock()
    cashier = register(uow, FakePasswordHasher(), clock,
                       Registration("till-1", "till-1@kiosk.example", "counter-till-1"))
    tea = create_product(uow, clock, ProductDetails("Mint tea", Money.parse("15.00", "EGP"), 50))
    services = OrderingServices(gateway=CashDrawerGateway(), scheduler=NoExpiry(), clock=clock)
    order = place_order(uow, services, PlaceOrder(cashier.id or 0, (CartLine(tea.id or 0, 3),)))
    cash = PaymentCallback(transaction_id=f"cash-{order.id}", amount=order.total, success=True,
                           pending=False, is_refund=False, is_void=False,
                           has_parent_transaction=False, order_id=order.id,
                           provider_order_id=None)
    apply_payment_callback(uow, clock, cash)
    with uow:
        paid = uow.orders.get(order.id or 0)
    assert paid is not None
    return paid


if __name__ == "__main__":
    sold = sell_over_the_counter()
    print(f"Order {sold.id}: {sold.status.value}, {sold.total}")
