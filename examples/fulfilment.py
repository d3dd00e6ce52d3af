"""A fulfilment service: another service built on `shop_core` that hears of paid orders.

It subscribes a handler in its own process to the core's `order.paid` events, with adapters
of its own (the core's in-memory unit of work here; a real one plugs in its repositories).
The events were written in the same transaction as the payment, so none is lost if the
service stops between the two: the next `deliver_everything` hands it over, and a handler
that raises is called again later, with backoff.

Run it: .venv/bin/python examples/fulfilment.py
"""

from __future__ import annotations

from kiosk import CashDrawerGateway, NoExpiry  # the example beside this one

from shop_core.clock import SystemClock
from shop_core.events import Event, EventType
from shop_core.money import Money
from shop_core.orders import CartLine
from shop_core.payments import PaymentCallback
from shop_core.subscriptions import Handler
from shop_core.testing import FakePasswordHasher, FakeUnitOfWork
from shop_core.use_cases.accounts import Registration, register
from shop_core.use_cases.catalogue import ProductDetails, create_product
from shop_core.use_cases.delivery import deliver_everything
from shop_core.use_cases.ordering import OrderingServices, PlaceOrder, place_order
from shop_core.use_cases.payments import apply_payment_callback


class PackingList:
    """Writes a packing slip for each paid order."""

    def __init__(self) -> None:
        self.slips: list[str] = []

    def on_paid(self, event: Event) -> None:
        order = event.data
        items = ", ".join(f"{item['quantity']} x {item['name']}" for item in order["items"])
        self.slips.append(f"Pack order {order['id']}: {items}")

    def handler(self) -> Handler:
        return Handler("packing-list", frozenset({EventType.ORDER_PAID}), self.on_paid)


def pack_what_was_paid() -> list[str]:
    uow, clock, packing = FakeUnitOfWork(), SystemClock(), PackingList()
    buyer = register(uow, FakePasswordHasher(), clock,
                     Registration("amira", "amira@example.com", "correct horse"))
    tea = create_product(uow, clock, ProductDetails("Mint tea", Money.parse("15.00", "EGP"), 50))
    services = OrderingServices(gateway=CashDrawerGateway(), scheduler=NoExpiry(), clock=clock)
    order = place_order(uow, services, PlaceOrder(buyer.id or 0, (CartLine(tea.id or 0, 3),)))
    apply_payment_callback(uow, clock, PaymentCallback(
        transaction_id=f"cash-{order.id}", amount=order.total, success=True, pending=False,
        is_refund=False, is_void=False, has_parent_transaction=False, order_id=order.id,
        provider_order_id=None))
    deliver_everything(uow, clock, [packing.handler()])
    deliver_everything(uow, clock, [packing.handler()])  # each event is handled once
    return packing.slips


if __name__ == "__main__":
    for slip in pack_what_was_paid():
        print(slip)
