"""Staff changes to the catalogue: the stock audit trail, stale edits, repeated forms."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shop_core.catalogue import StaleEdit
from shop_core.errors import Conflict, ValidationError
from shop_core.pagination import PageRequest
from shop_core.stock_audit import StockChangeKind
from shop_core.use_cases.catalogue import (
    ProductChanges,
    ProductDetails,
    adjust_stock,
    create_product,
    delete_product,
    restore_product,
    stock_history,
    update_product,
)

from .builders import Shop, egp

CLERK = 7


def trail(shop: Shop, product_id: int) -> list[tuple[StockChangeKind, int, int, str]]:
    history = stock_history(shop.uow, product_id, PageRequest(1, 50))
    return [(c.kind, c.before, c.after, c.reason) for c in history.items]


def test_an_adjustment_records_who_before_after_and_why(shop: Shop) -> None:
    product_id = shop.add_product(stock=4)
    shop.clock.advance(timedelta(minutes=5))
    adjusted = adjust_stock(shop.uow, shop.clock, product_id, 6, " Delivery from Cairo ",
                            by=CLERK, request_key="form-1")
    assert (adjusted.product.stock, shop.stock(product_id)) == (10, 10)
    assert adjusted.change.user_id == CLERK and adjusted.change.changed_at == shop.clock.now()
    assert trail(shop, product_id) == [
        (StockChangeKind.ADJUSTED, 4, 10, "Delivery from Cairo"),
        (StockChangeKind.CREATED, 0, 4, ""),
    ]


def test_the_same_adjustment_form_sent_twice_is_applied_once(shop: Shop) -> None:
    product_id = shop.add_product(stock=4)
    first = adjust_stock(shop.uow, shop.clock, product_id, -3, "Broken", by=CLERK,
                         request_key="form-1")
    again = adjust_stock(shop.uow, shop.clock, product_id, -3, "Broken", by=CLERK,
                         request_key="form-1")
    assert (first.replayed, again.replayed) == (False, True)
    assert again.change == first.change and shop.stock(product_id) == 1
    with pytest.raises(Conflict):  # the key belongs to this product's change
        adjust_stock(shop.uow, shop.clock, shop.add_product(), 1, "x", by=CLERK,
                     request_key="form-1")


def test_an_adjustment_below_zero_or_without_a_reason_changes_nothing(shop: Shop) -> None:
    product_id = shop.add_product(stock=2)
    for delta, reason, field in ((-3, "Broken", "quantity"), (0, "None", "quantity"),
                                 (1, "  ", "reason")):
        with pytest.raises(ValidationError) as raised:
            adjust_stock(shop.uow, shop.clock, product_id, delta, reason, by=CLERK,
                         request_key=f"form-{delta}")
        assert field in raised.value.field_errors
    assert shop.stock(product_id) == 2 and len(trail(shop, product_id)) == 1


def test_an_edit_from_a_stale_form_is_refused_and_loses_nothing(shop: Shop) -> None:
    product_id = shop.add_product(name="Mug", price="10.00")
    update_product(shop.uow, shop.clock, product_id, ProductChanges(price=egp("12.00")),
                   by=CLERK, expected_version=1)
    with pytest.raises(StaleEdit):
        update_product(shop.uow, shop.clock, product_id, ProductChanges(name="Cup"),
                       by=CLERK, expected_version=1)
    stored = shop.product(product_id)
    assert (stored.name, stored.price, stored.version) == ("Mug", egp("12.00"), 2)


def test_the_same_edit_form_sent_twice_succeeds_once(shop: Shop) -> None:
    product_id = shop.add_product(name="Mug")
    changes = ProductChanges(name="Cup", price=egp("12.00"))
    update_product(shop.uow, shop.clock, product_id, changes, expected_version=1)
    again = update_product(shop.uow, shop.clock, product_id, changes, expected_version=1)
    assert (again.name, again.version) == ("Cup", 2)


def test_a_stock_figure_written_by_an_edit_is_in_the_trail(shop: Shop) -> None:
    product_id = shop.add_product(stock=3)
    update_product(shop.uow, shop.clock, product_id, ProductChanges(stock=9), by=CLERK)
    update_product(shop.uow, shop.clock, product_id, ProductChanges(stock=9), by=CLERK)
    assert trail(shop, product_id)[0] == (StockChangeKind.SET, 3, 9, "")
    assert len(trail(shop, product_id)) == 2


def test_a_creation_form_sent_twice_makes_one_product(shop: Shop) -> None:
    details = ProductDetails("Lamp", egp("5.00"), 3)
    first = create_product(shop.uow, shop.clock, details, by=CLERK, request_key="new-1")
    again = create_product(shop.uow, shop.clock, details, by=CLERK, request_key="new-1")
    assert again.id == first.id and len(shop.uow.store.products) == 1


def test_a_deleted_product_can_be_restored_and_an_open_form_goes_stale(shop: Shop) -> None:
    product_id = shop.add_product()
    delete_product(shop.uow, shop.clock, product_id)
    assert shop.product(product_id).is_deleted
    restored = restore_product(shop.uow, shop.clock, product_id)
    assert not restored.is_deleted and restored.version == 3
    with pytest.raises(StaleEdit):
        update_product(shop.uow, shop.clock, product_id, ProductChanges(name="New"),
                       expected_version=1)
