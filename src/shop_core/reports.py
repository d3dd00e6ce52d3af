"""What the back-office reads about the shop as a whole: order figures by status, money given
back, orders per hour, the health of the periodic duties."""

from __future__ import annotations

from datetime import datetime

from attrs import frozen

from shop_core.money import Money
from shop_core.orders import OrderStatus


@frozen
class StatusTotal:
    """How many orders of one status and currency were placed in a period, and their value."""

    status: OrderStatus
    count: int
    value: Money


@frozen
class MoneyBack:
    """Refunds and voids of one currency that went through in a period, and their sum."""

    count: int
    amount: Money


@frozen
class HourCount:
    """Orders placed in the hour starting at `hour` (UTC)."""

    hour: datetime
    count: int


@frozen
class DutyRun:
    """The last completed pass of a periodic duty (the expiry sweep), and what it did."""

    name: str
    finished_at: datetime
    done: int


@frozen
class PaymentBacklog:
    """Pending orders: still inside their payment window, and past it but not yet expired
    (which a healthy sweep keeps near zero)."""

    awaiting_payment: int
    overdue: int
