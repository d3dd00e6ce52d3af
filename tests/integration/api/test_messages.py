"""One message per rule, whichever layer catches it: the core's violations and the request
schemas' checks of the same bounds read alike."""

from __future__ import annotations

import pytest

from shop_core.catalogue import MAX_STOCK, check_product
from shop_core.errors import Rule, ValidationError
from shop_core.money import Money
from shop_core.orders import MAX_CART_LINES, CartLine, merge_cart
from shop_web.messages import MESSAGES, field_messages

from .conftest import Api


def core_words(error: ValidationError) -> dict[str, object]:
    return field_messages(error.field_errors)


def test_every_rule_has_words() -> None:
    assert set(MESSAGES) == set(Rule)


def test_a_stock_the_schema_refuses_reads_as_the_core_says_it(lite: Api) -> None:
    admin = lite.auth("admin")
    for stock in (-1, MAX_STOCK + 1):
        response = lite.http.post("/api/v1/products/", headers=admin, json={
            "name": "Lamp", "price": "1.00", "stock": stock})
        assert response.status_code == 400
        with pytest.raises(ValidationError) as refused:
            check_product("Lamp", "", Money(100, "EGP"), stock)
        assert response.json == core_words(refused.value)


def test_too_many_cart_lines_read_as_the_core_says_it(lite: Api) -> None:
    lamp = lite.product()
    response = lite.http.post("/api/v1/orders/", headers=lite.auth("amira"), json={
        "cart_items": [{"product_id": lamp, "quantity": 1}] * (MAX_CART_LINES + 1)})
    assert response.status_code == 400
    with pytest.raises(ValidationError) as refused:
        merge_cart([CartLine(lamp, 1)] * (MAX_CART_LINES + 1))
    assert response.json == core_words(refused.value) == {
        "cart_items": [f"At most {MAX_CART_LINES} items are allowed."]}


def test_violations_are_worded_with_their_bounds() -> None:
    with pytest.raises(ValidationError) as refused:
        check_product("", "", Money(10**12, "EGP"), 0)
    assert core_words(refused.value) == {"name": ["This field may not be blank."],
                                         "price": ["Ensure this value is at most 100000000.00."]}
