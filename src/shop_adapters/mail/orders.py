"""The customer's e-mails about their order: paid (with its lines and total), and each
refund (with its amount)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

from shop_adapters.mail.smtp import Mailer
from shop_core.accounts import User
from shop_core.events import Event, EventType
from shop_core.subscriptions import Handler

log = logging.getLogger(__name__)

HANDLER_NAME = "order-mail"


class OrderMail:
    """The in-process subscriber that writes to customers. `customer(user_id)` reads the
    customer (in a transaction of its own, closed before anything is sent)."""

    def __init__(self, mailer: Mailer, customer: Callable[[int], User | None], *,
                 sender: str, shop_name: str = "shop") -> None:
        self._mailer = mailer
        self._customer = customer
        self._sender = sender
        self._shop_name = shop_name
        self._compose: dict[EventType, Callable[[Mapping[str, Any]], tuple[str, str]]] = {
            EventType.ORDER_PAID: _paid,
            EventType.ORDER_REFUNDED: _refunded,
        }

    def handler(self) -> Handler:
        return Handler(HANDLER_NAME, frozenset(self._compose), self.handle)

    def handle(self, event: Event) -> None:
        customer = self._customer(int(event.data["user_id"]))
        if customer is None:
            log.info("Order %s: its customer is gone; no e-mail", event.order_id)
            return
        subject, text = self._compose[event.type](event.data)
        message = EmailMessage()
        message["From"] = formataddr((self._shop_name, self._sender))
        name = f"{customer.first_name} {customer.last_name}".strip() or customer.username
        message["To"] = formataddr((name, customer.email))
        message["Subject"] = subject
        # The same id on every try: a mail system that sees it twice may drop the repeat.
        message["Message-ID"] = f"<{event.id}@{self._sender.rpartition('@')[2] or 'shop'}>"
        greeting = customer.first_name or customer.username
        message.set_content(f"Hello {greeting},\n\n{text}\n")
        self._mailer.send(message)


def _paid(order: Mapping[str, Any]) -> tuple[str, str]:
    lines = [f"  {item['quantity']} x {item['name']} at {item['unit_price']}"
             f" = {item['line_total']} {order['currency']}" for item in order["items"]]
    return (f"Order {order['id']}: paid, thank you",
            f"We received your payment for order {order['id']}:\n\n" + "\n".join(lines)
            + f"\n\nTotal: {order['total']} {order['currency']}\n\n"
            "We will let you know when it is on its way.")


def _refunded(order: Mapping[str, Any]) -> tuple[str, str]:
    return (f"Order {order['id']}: {order['amount']} {order['currency']} refunded",
            f"We refunded {order['amount']} {order['currency']} of order {order['id']} "
            f"to the way you paid; {order['refunded_amount']} of {order['paid_amount']} "
            f"{order['currency']} has gone back in all.\n\n"
            "Your bank may take a few days to show it.")
