"""What the back-office's pages read: the dashboard, and the file of an order, a product or a
customer. Each is one read-only transaction of a bounded number of queries."""

from __future__ import annotations

from datetime import datetime, timedelta

from attrs import evolve, frozen

from shop_core.accounts import User
from shop_core.catalogue import Product, ProductOrdering, ProductQuery
from shop_core.errors import NotFound
from shop_core.orders import Order, OrderQuery
from shop_core.pagination import Page, PageRequest
from shop_core.payments import PaymentEvent
from shop_core.ports import Clock, UnitOfWork
from shop_core.reports import DutyRun, HourCount, MoneyBack, PaymentBacklog, StatusTotal
from shop_core.stock_audit import StockChange
from shop_core.use_cases.expiry import EXPIRY_SWEEP
from shop_core.use_cases.reconciliation import RECONCILIATION

# A product with fewer units than this is shown as running low.
LOW_STOCK_BELOW = 5
DASHBOARD_LIST_SIZE = 10
CHART_HOURS = 24


@frozen
class Dashboard:
    """The shop at a glance, as of `now` (days and weeks start at midnight UTC, Monday)."""

    now: datetime
    today: list[StatusTotal]
    this_week: list[StatusTotal]
    back_today: list[MoneyBack]
    back_this_week: list[MoneyBack]
    backlog: PaymentBacklog
    refund_queue: Page[Order]
    # Refunds, voids and captures the provider has not settled: an `unknown` one waits for
    # its callback or reconciliation.
    unsettled: list[PaymentEvent]
    out_of_stock: Page[Product]
    low_stock: Page[Product]
    last_sweep: DutyRun | None
    last_reconciliation: DutyRun | None
    orders_per_hour: list[HourCount]


def dashboard(uow: UnitOfWork, clock: Clock) -> Dashboard:
    now = clock.now()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    first_hour = now.replace(minute=0, second=0, microsecond=0) - timedelta(
        hours=CHART_HOURS - 1)
    short = PageRequest(1, DASHBOARD_LIST_SIZE)
    monday = today - timedelta(days=today.weekday())
    with uow:
        return Dashboard(
            now=now,
            today=uow.reports.status_totals(today),
            this_week=uow.reports.status_totals(monday),
            back_today=uow.reports.money_back(today),
            back_this_week=uow.reports.money_back(monday),
            backlog=uow.reports.payment_backlog(now),
            refund_queue=uow.orders.find(OrderQuery(needs_refund=True, page=short)),
            unsettled=uow.payment_events.unsettled(DASHBOARD_LIST_SIZE),
            out_of_stock=uow.products.find(_stock_below(1, short)),
            low_stock=uow.products.find(_stock_below(LOW_STOCK_BELOW, short, in_stock=True)),
            last_sweep=uow.duty_log.last(EXPIRY_SWEEP),
            last_reconciliation=uow.duty_log.last(RECONCILIATION),
            orders_per_hour=_every_hour(uow.reports.orders_per_hour(first_hour), first_hour),
        )


@frozen
class OrderFile:
    """An order with its customer, its ledger (oldest first) and the staff who started
    the ledger's refunds, voids and captures."""

    order: Order
    customer: User | None
    payment_events: list[PaymentEvent]
    staff: dict[int, User]


def order_file(uow: UnitOfWork, order_id: int) -> OrderFile:
    with uow:
        order = uow.orders.get(order_id)
        if order is None:
            raise NotFound("Order not found.")
        ledger = uow.payment_events.list_for_order(order_id)
        starters = {entry.started_by for entry in ledger if entry.started_by is not None}
        return OrderFile(order, uow.users.get(order.user_id), ledger,
                         uow.users.get_many(starters) if starters else {})


@frozen
class OrderList:
    """A page of orders and the customers who placed them."""

    orders: Page[Order]
    customers: dict[int, User]


def find_orders(uow: UnitOfWork, query: OrderQuery, customer: str | None = None) -> OrderList:
    """A page of `query`'s orders; `customer` (a username or an email) narrows it to that
    customer's, and to none when nobody has that name."""
    with uow:
        if customer is not None:
            found = (uow.users.get_by_email(customer) if "@" in customer
                     else uow.users.get_by_username(customer))
            if found is None:
                return OrderList(Page(items=(), count=0, request=query.page), {})
            query = evolve(query, user_id=found.id)
        orders = uow.orders.find(query)
        return OrderList(orders, uow.users.get_many({order.user_id for order in orders.items}))


@frozen
class CustomerFile:
    customer: User
    orders: Page[Order]


def customer_file(uow: UnitOfWork, user_id: int, page: PageRequest) -> CustomerFile:
    with uow:
        customer = uow.users.get(user_id)
        if customer is None:
            raise NotFound("Customer not found.")
        return CustomerFile(customer, uow.orders.find(OrderQuery(user_id=user_id, page=page)))


def _stock_below(units: int, page: PageRequest, *, in_stock: bool = False) -> ProductQuery:
    return ProductQuery(stock_below=units, in_stock=in_stock, ordering=ProductOrdering.NAME,
                        page=page)


def _every_hour(counts: list[HourCount], first_hour: datetime) -> list[HourCount]:
    """One entry for each of the chart's hours, those without orders at zero."""
    by_hour = {count.hour: count.count for count in counts}
    hours = (first_hour + timedelta(hours=offset) for offset in range(CHART_HOURS))
    return [HourCount(hour, by_hour.get(hour, 0)) for hour in hours]


@frozen
class ProductFile:
    """A product (deleted or not), a page of its stock audit trail, and who made each
    change."""

    product: Product
    stock_changes: Page[StockChange]
    people: dict[int, User]


def product_file(uow: UnitOfWork, product_id: int, page: PageRequest) -> ProductFile:
    with uow:
        product = uow.products.get(product_id)
        if product is None:
            raise NotFound("Product not found.")
        trail = uow.stock_audit.list_for_product(product_id, page)
        people = uow.users.get_many({c.user_id for c in trail.items if c.user_id is not None})
        return ProductFile(product, trail, people)
