from __future__ import annotations

from datetime import timedelta

from attrs import evolve

from shop_core.orders import OrderStatus
from shop_core.payments import CallbackOutcome, PaymentState
from shop_core.use_cases.expiry import expire_overdue_orders

from .builders import TIMEOUT, Shop

GRACE = timedelta(seconds=60)


def test_a_payment_whose_callback_was_lost_is_found_and_the_late_callback_changes_nothing(
        shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    order = shop.place(shop.add_customer(), (pid, 2))
    assert order.id is not None
    paid = shop.callback(order, transaction_id="tx-lost")
    shop.gateway.payments[order.id] = paid
    shop.clock.advance(TIMEOUT)

    report = shop.reconciler().reconcile_overdue()
    assert expire_overdue_orders(shop.uow, shop.clock, grace=GRACE) == 0

    assert (report.asked, report.changed) == (1, 1)
    assert shop.order(order.id).status is OrderStatus.SUCCESS
    assert shop.deliver(paid) is CallbackOutcome.DUPLICATE
    assert shop.stock(pid) == 3


def test_an_overdue_order_with_an_opened_payment_waits_for_an_answer(shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    order = shop.place(shop.add_customer(), (pid, 2))
    shop.clock.advance(TIMEOUT)
    assert expire_overdue_orders(shop.uow, shop.clock, grace=GRACE) == 0
    shop.reconciler().reconcile_overdue()  # the provider has nothing
    assert expire_overdue_orders(shop.uow, shop.clock, grace=GRACE) == 1
    assert shop.order(order.id).status is OrderStatus.TIMEOUT
    assert shop.stock(pid) == 5


def test_an_outage_delays_expiry_by_the_grace_at_most_and_the_breaker_stops_asking(
        shop: Shop) -> None:
    pid = shop.add_product(stock=50)
    user = shop.add_customer()
    orders = [shop.place(user, (pid, 1)) for _ in range(5)]
    shop.gateway.unreachable = True
    shop.clock.advance(TIMEOUT)
    reconciler = shop.reconciler(threshold=3)

    report = reconciler.reconcile_overdue()
    assert (report.asked, report.failed, report.left) == (0, 3, 2)
    assert len(shop.gateway.lookups) == 3
    assert reconciler.reconcile_overdue().failed == 0  # the breaker is open
    assert len(shop.gateway.lookups) == 3
    assert expire_overdue_orders(shop.uow, shop.clock, grace=GRACE) == 0

    shop.clock.advance(GRACE)
    assert expire_overdue_orders(shop.uow, shop.clock, grace=GRACE) == 5
    assert {shop.order(o.id).status for o in orders} == {OrderStatus.TIMEOUT}
    assert shop.stock(pid) == 50


def test_a_payment_found_after_the_timeout_takes_the_stock_again(shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    order = shop.place(shop.add_customer(), (pid, 2))
    assert order.id is not None
    shop.clock.advance(TIMEOUT)
    expire_overdue_orders(shop.uow, shop.clock)
    shop.gateway.payments[order.id] = shop.callback(order)
    shop.clock.advance(timedelta(minutes=2))

    assert shop.reconciler().reconcile(since=timedelta(hours=1)).changed == 1
    assert shop.order(order.id).status is OrderStatus.SUCCESS
    assert shop.stock(pid) == 3


def test_an_order_is_not_asked_about_again_before_the_recheck(shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    order = shop.place(shop.add_customer(), (pid, 1))
    shop.cancel(order)
    reconciler = shop.reconciler(recheck=timedelta(minutes=10))
    assert reconciler.reconcile().asked == 1
    assert reconciler.reconcile().asked == 0
    shop.clock.advance(timedelta(minutes=10))
    assert reconciler.reconcile().asked == 1
    shop.clock.advance(timedelta(hours=1))
    assert reconciler.reconcile().asked == 0  # out of the window


def test_a_pass_asks_about_a_batch_at_a_time_spaced_out(shop: Shop) -> None:
    pid = shop.add_product(stock=50)
    user = shop.add_customer()
    for _ in range(4):
        shop.cancel(shop.place(user, (pid, 1)))
    pauses: list[float] = []
    reconciler = shop.reconciler(batch_size=3, spacing=0.5)
    reconciler.sleep = pauses.append
    reconciler.monotonic = lambda: 100.0 + sum(pauses)  # time passes only while it sleeps
    assert reconciler.reconcile().asked == 3
    assert pauses == [0.5, 0.5]


def test_pending_notice_shows_the_kiosk_reference_and_keeps_the_order_pending(
        shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    order = shop.place(shop.add_customer(), (pid, 2))
    notice = evolve(shop.callback(order, success=False, pending=True),
                    awaiting=PaymentState.AWAITING_KIOSK_PAYMENT,
                    payment_reference="7412589")
    assert shop.deliver(notice) is CallbackOutcome.STILL_PENDING
    stored = shop.order(order.id)
    assert stored.status is OrderStatus.PENDING
    assert stored.payment_state is PaymentState.AWAITING_KIOSK_PAYMENT
    assert stored.payment_reference == "7412589"
    assert shop.stock(pid) == 3

    shop.pay(order, transaction_id=notice.transaction_id)
    paid = shop.order(order.id)
    assert paid.status is OrderStatus.SUCCESS and paid.payment_state is None
    assert paid.payment_reference == "7412589"


def test_a_kiosk_bill_not_paid_by_the_deadline_times_out_with_its_stock_back(
        shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    order = shop.place(shop.add_customer(), (pid, 2))
    shop.deliver(evolve(shop.callback(order, success=False, pending=True),
                        awaiting=PaymentState.AWAITING_KIOSK_PAYMENT,
                        payment_reference="7412589"))
    shop.clock.advance(TIMEOUT - timedelta(seconds=1))
    shop.reconciler().reconcile_overdue()
    assert expire_overdue_orders(shop.uow, shop.clock, grace=GRACE) == 0
    shop.clock.advance(timedelta(seconds=1))
    shop.reconciler().reconcile_overdue()
    assert expire_overdue_orders(shop.uow, shop.clock, grace=GRACE) == 1
    stored = shop.order(order.id)
    assert (stored.status, stored.payment_state) == (OrderStatus.TIMEOUT, None)
    assert shop.stock(pid) == 5
