"""Refunds, voids and captures from the order page: each after a confirmation page, through
the API's use cases, once however often the form is sent."""

from __future__ import annotations

import re

from shop_core.ledger import Movement
from shop_core.testing import FakePaymentOperations
from shop_core.use_cases.ordering import get_order
from tests.integration.api.conftest import Api

from .conftest import Browser, pay, place_order, text


def paid_order(api: Api, movement: Movement = Movement.PAYMENT) -> tuple[int, int]:
    """An order of 2 × 100.00 EGP, paid (or authorized); its id and product."""
    lamp = api.product("Lamp", price="100.00", stock=5)
    order_id = place_order(api, lamp, quantity=2)
    pay(api, order_id, movement)
    return order_id, lamp


def form_of(staff: Browser, path: str) -> dict[str, str]:
    """The hidden fields of the confirmation form at `path`."""
    page = text(staff.get(path))
    return dict(re.findall(r'name="(csrf_token|request_key)" value="([^"]+)"', page))


def balance(api: Api, order_id: int) -> tuple[str, str, str]:
    order = get_order(api.shop.reader(), order_id, user_id=None)
    return order.status.value, order.paid_amount.format(), order.refunded_amount.format()


def test_part_of_an_order_is_refunded_once_however_often_the_form_is_sent(
        staff: Browser, api: Api, operations: FakePaymentOperations) -> None:
    order_id, _ = paid_order(api)
    page = text(staff.get(f"/staff/orders/{order_id}"))
    assert f'href="/staff/orders/{order_id}/refund"' in page
    confirm = text(staff.get(f"/staff/orders/{order_id}/refund"))
    assert "Refundable</dt><dd>200.00 EGP" in confirm and 'value="200.00"' in confirm
    fields = {**form_of(staff, f"/staff/orders/{order_id}/refund"),
              "amount": "50.00", "reason": "One lamp arrived broken"}
    first = staff.post(f"/staff/orders/{order_id}/refund", fields)
    again = staff.post(f"/staff/orders/{order_id}/refund", fields)  # a double click
    assert (first.status_code, again.status_code) == (303, 303)
    assert [call[0] for call in operations.calls] == ["refund"]
    assert balance(api, order_id) == ("success", "200.00", "50.00")
    html = text(staff.get(f"/staff/orders/{order_id}"))
    assert "Refund of 50.00 EGP done." in html
    ledger = html[html.index('id="ledger"'):]
    row = ledger[ledger.index("<td>refund</td>"):]
    row = row[:row.index("</tr>")]
    assert "50.00 EGP" in row and "succeeded" in row and "admin" in row
    assert "One lamp arrived broken" in row
    # The rest is still refundable, and the page offers it.
    assert "Refundable</dt><dd>150.00 EGP" in text(staff.get(f"/staff/orders/{order_id}/refund"))


def test_a_refund_beyond_the_balance_or_of_a_bad_amount_shows_the_form_again(
        staff: Browser, api: Api, operations: FakePaymentOperations) -> None:
    order_id, _ = paid_order(api)
    path = f"/staff/orders/{order_id}/refund"
    too_much = staff.post(path, {**form_of(staff, path), "amount": "250.00"})
    assert too_much.status_code == 409
    assert "exceeds the order&#39;s refundable balance" in text(too_much)
    assert 'action="' + path + '"' in text(too_much)  # the form, to correct
    for amount, message in [("abc", "Enter an amount in EGP"), ("0", "above zero"),
                            ("1.234", "at most 2 decimal places")]:
        bad = staff.post(path, {**form_of(staff, path), "amount": amount})
        assert bad.status_code == 400 and message in text(bad), amount
    long_reason = staff.post(path, {**form_of(staff, path), "reason": "x" * 501})
    assert long_reason.status_code == 400 and "at most 500" in text(long_reason)
    no_csrf = staff.post(path, {"request_key": "k", "amount": "10.00"})
    assert no_csrf.status_code == 400
    assert operations.calls == [] and balance(api, order_id) == ("success", "200.00", "0.00")


def test_refunding_everything_with_restock_puts_the_stock_back_and_offers_no_more(
        staff: Browser, api: Api) -> None:
    order_id, lamp = paid_order(api)
    path = f"/staff/orders/{order_id}/refund"
    assert 'name="restock"' in text(staff.get(path))
    done = staff.post(path, {**form_of(staff, path), "amount": "200.00", "restock": "1"})
    assert done.status_code == 303
    assert balance(api, order_id) == ("refunded", "200.00", "200.00")
    assert api.stock(lamp) == 5
    page = text(staff.get(f"/staff/orders/{order_id}"))
    assert f"{path}\"" not in page and "restocked" in page
    assert "cannot take this action" in text(staff.get(path))


def test_a_partial_refund_cannot_restock(staff: Browser, api: Api) -> None:
    order_id, lamp = paid_order(api)
    path = f"/staff/orders/{order_id}/refund"
    refused = staff.post(path, {**form_of(staff, path), "amount": "50.00", "restock": "1"})
    assert refused.status_code == 409 and "everything left" in text(refused)
    assert api.stock(lamp) == 3 and balance(api, order_id) == ("success", "200.00", "0.00")


def test_voiding_returns_the_stock_and_a_settled_payment_is_sent_to_refund(
        staff: Browser, api: Api, operations: FakePaymentOperations) -> None:
    order_id, lamp = paid_order(api)
    path = f"/staff/orders/{order_id}/void"
    assert f'href="{path}"' in text(staff.get(f"/staff/orders/{order_id}"))
    operations.answer = "refuse"  # settled at the provider already
    late = staff.post(path, form_of(staff, path))
    assert late.status_code == 409 and "refund it instead" in text(late)
    assert balance(api, order_id) == ("success", "200.00", "0.00") and api.stock(lamp) == 3
    operations.answer = "succeed"
    assert staff.post(path, form_of(staff, path)).status_code == 303
    assert balance(api, order_id) == ("voided", "200.00", "200.00") and api.stock(lamp) == 5
    page = text(staff.get(f"/staff/orders/{order_id}"))
    assert "Void of 200.00 EGP done." in page and f'href="{path}"' not in page


def test_an_authorization_is_captured_in_part(staff: Browser, api: Api,
                                              operations: FakePaymentOperations) -> None:
    order_id, _ = paid_order(api, Movement.AUTHORIZATION)
    page = text(staff.get(f"/staff/orders/{order_id}"))
    assert "authorized" in page and f"/staff/orders/{order_id}/refund\"" not in page
    path = f"/staff/orders/{order_id}/capture"
    too_much = staff.post(path, {**form_of(staff, path), "amount": "300.00"})
    assert too_much.status_code == 409 and "at most what was authorized" in text(too_much)
    assert staff.post(path, {**form_of(staff, path), "amount": "150.00"}).status_code == 303
    assert balance(api, order_id) == ("success", "150.00", "0.00")
    assert [(call[0], str(call[2])) for call in operations.calls] == [("capture", "150.00 EGP")]


def test_a_refund_the_provider_does_not_answer_stays_held_on_the_order_and_the_dashboard(
        staff: Browser, api: Api, operations: FakePaymentOperations) -> None:
    order_id, _ = paid_order(api)
    operations.answer = "timeout"
    path = f"/staff/orders/{order_id}/refund"
    asked = staff.post(path, {**form_of(staff, path), "amount": "80.00"})
    assert asked.status_code == 303
    page = text(staff.get(f"/staff/orders/{order_id}"))
    assert 'notice warning' in page and "did not answer in time" in page
    assert "80.00 EGP is held" in page and "unknown</strong>" in page
    board = text(staff.get("/staff/"))
    unsettled = board[board.index('id="unsettled"'):]
    unsettled = unsettled[:unsettled.index("</table>")]
    assert f"/staff/orders/{order_id}\"" in unsettled and "80.00 EGP" in unsettled
    # Nothing more can be refunded past what is held.
    assert "Refundable</dt><dd>120.00 EGP" in text(staff.get(path))


def test_the_dashboard_counts_the_money_given_back_today_and_this_week(
        staff_on_both: Browser) -> None:
    staff, api = staff_on_both, staff_on_both.api
    assert "Given back: <span class=\"muted\">nothing" in text(staff.get("/staff/"))
    first, _ = paid_order(api)
    second, _ = paid_order(api)
    for order_id, action, fields in [(first, "refund", {"amount": "30.00"}),
                                     (first, "refund", {"amount": "20.00"}),
                                     (second, "void", {})]:
        path = f"/staff/orders/{order_id}/{action}"
        assert staff.post(path, {**form_of(staff, path), **fields}).status_code == 303
    board = text(staff.get("/staff/"))
    today = board[board.index('id="back-today"'):]
    assert today.startswith('id="back-today">Given back: 250.00 EGP (3 refunds or voids)')
    assert 'id="back-week">Given back: 250.00 EGP (3 refunds or voids)' in board


def test_without_a_staff_session_nothing_is_refunded(
        staff: Browser, api: Api, operations: FakePaymentOperations) -> None:
    order_id, _ = paid_order(api)
    fields = {**form_of(staff, f"/staff/orders/{order_id}/refund"), "amount": "10.00"}
    stranger = Browser(api)
    for method in (stranger.get, lambda path: stranger.post(path, fields)):
        answer = method(f"/staff/orders/{order_id}/refund")
        assert answer.status_code == 302 and "/staff/sign-in" in answer.headers["Location"]
    assert operations.calls == [] and balance(api, order_id) == ("success", "200.00", "0.00")


def test_a_refund_the_provider_refused_is_told_again_not_asked_again_when_the_form_is_resent(
        staff: Browser, api: Api, operations: FakePaymentOperations) -> None:
    order_id, _ = paid_order(api)
    operations.answer = "refuse"
    path = f"/staff/orders/{order_id}/refund"
    fields = {**form_of(staff, path), "amount": "40.00"}
    first = staff.post(path, fields)
    operations.answer = "succeed"
    again = staff.post(path, fields)  # the same form: the provider's refusal stands
    assert (first.status_code, again.status_code) == (502, 502)
    assert "refused" in text(first) and "refused" in text(again)
    assert len(operations.calls) == 1
    assert balance(api, order_id) == ("success", "200.00", "0.00")
    # A new form asks again.
    assert staff.post(path, {**form_of(staff, path), "amount": "40.00"}).status_code == 303
    assert balance(api, order_id) == ("success", "200.00", "40.00")
