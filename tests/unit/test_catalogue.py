from __future__ import annotations

from datetime import timedelta

import pytest

from shop_core.catalogue import (
    MAX_PRICE_MINOR,
    MAX_STOCK,
    ProductOrdering,
    ProductQuery,
    StockLine,
    check_product,
)
from shop_core.errors import NotFound, ValidationError
from shop_core.money import Money
from shop_core.orders import CartLine
from shop_core.pagination import PageRequest
from shop_core.testing import FakeProductRepository
from shop_core.use_cases.catalogue import (
    ProductChanges,
    ProductDetails,
    create_product,
    delete_product,
    get_product,
    list_products,
    update_product,
)
from shop_core.use_cases.ordering import PlaceOrder, place_order

from .builders import Shop, egp


def errors_of(name: str = "Mug", description: str = "", price: Money | None = None,
              stock: int = 1) -> dict[str, object]:
    try:
        check_product(name, description, price or egp("1.00"), stock)
    except ValidationError as error:
        return error.field_errors
    return {}


# --- the rules a product keeps ---------------------------------------------------------

def test_a_sensible_product_passes() -> None:
    assert errors_of("Mug", "Blue", egp("0.01"), 0) == {}


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_name_must_be_1_to_200_characters(name: str) -> None:
    assert set(errors_of(name=name)) == {"name"}


def test_name_of_exactly_200_characters_is_fine() -> None:
    assert errors_of(name="x" * 200) == {}


@pytest.mark.parametrize("price", [Money(0, "EGP"), Money(-1, "EGP"),
                                   Money(MAX_PRICE_MINOR + 1, "EGP")])
def test_price_must_be_positive_and_bounded(price: Money) -> None:
    assert set(errors_of(price=price)) == {"price"}


def test_highest_price_is_allowed() -> None:
    assert errors_of(price=Money(MAX_PRICE_MINOR, "EGP")) == {}


@pytest.mark.parametrize("stock", [-1, MAX_STOCK + 1])
def test_stock_must_be_between_zero_and_the_column_limit(stock: int) -> None:
    assert set(errors_of(stock=stock)) == {"stock"}


def test_description_has_a_length_limit() -> None:
    assert set(errors_of(description="x" * 10_001)) == {"description"}


def test_every_broken_field_is_named_at_once() -> None:
    assert set(errors_of(name="", price=Money(0, "EGP"), stock=-1)) == {"name", "price", "stock"}


@pytest.mark.parametrize(("page", "size", "field"),
                         [(0, 20, "page"), (1, 0, "page_size"), (1, 101, "page_size")])
def test_page_request_bounds(page: int, size: int, field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        PageRequest(page, size)
    assert set(raised.value.field_errors) == {field}


def test_page_offset_counts_from_page_one() -> None:
    assert PageRequest(1, 20).offset == 0
    assert PageRequest(3, 10).offset == 20


# --- create, update, delete ---------------------------------------------------------------

def test_create_product_stores_it_with_timestamps(shop: Shop) -> None:
    product = create_product(shop.uow, shop.clock, ProductDetails("Mug", egp("199.99"), 5, "Blue"))
    assert product.id is not None
    stored = shop.product(product.id)
    assert (stored.name, stored.price, stored.stock, stored.description) == (
        "Mug", Money(19999, "EGP"), 5, "Blue")
    assert not stored.is_deleted
    assert stored.created_at == stored.updated_at == shop.clock.now()


def test_create_product_refuses_invalid_details_and_stores_nothing(shop: Shop) -> None:
    with pytest.raises(ValidationError):
        create_product(shop.uow, shop.clock, ProductDetails("", egp("1.00"), 1))
    assert shop.uow.store.products == {}


def test_update_changes_only_the_given_fields(shop: Shop) -> None:
    pid = shop.add_product("Mug", "10.00", 5, "Blue")
    shop.clock.advance(timedelta(minutes=1))
    updated = update_product(shop.uow, shop.clock, pid, ProductChanges(price=egp("12.50")))
    stored = shop.product(pid)
    assert (stored.name, stored.description, stored.price, stored.stock) == (
        "Mug", "Blue", egp("12.50"), 5)
    assert stored.updated_at == shop.clock.now() > stored.created_at
    assert updated.price == egp("12.50")


def test_update_sets_stock_when_given(shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    updated = update_product(shop.uow, shop.clock, pid, ProductChanges(stock=42))
    assert shop.stock(pid) == 42 == updated.stock


class _OrderPlacedDuringEdit(FakeProductRepository):
    """A customer reserves stock between the admin's read of the product and the write."""

    def get(self, product_id: int):  # type: ignore[no-untyped-def]
        product = super().get(product_id)
        assert self.reserve([StockLine(product_id, 3)]).complete
        return product


def test_update_without_stock_never_overwrites_a_concurrent_reservation(shop: Shop) -> None:
    pid = shop.add_product(stock=10)
    shop.uow.products = _OrderPlacedDuringEdit(shop.uow)
    update_product(shop.uow, shop.clock, pid, ProductChanges(name="Big mug"))
    assert shop.stock(pid) == 7
    assert shop.product(pid).name == "Big mug"


def test_update_after_orders_keeps_the_reserved_stock(shop: Shop) -> None:
    pid = shop.add_product(stock=10)
    shop.place(shop.add_customer(), (pid, 4))
    update_product(shop.uow, shop.clock, pid, ProductChanges(description="Now in blue"))
    assert shop.stock(pid) == 6


@pytest.mark.parametrize("changes", [ProductChanges(name=""), ProductChanges(price=egp("0")),
                                     ProductChanges(stock=-1), ProductChanges(name="x" * 201)])
def test_invalid_update_changes_nothing(shop: Shop, changes: ProductChanges) -> None:
    pid = shop.add_product("Mug", "10.00", 5)
    before = shop.product(pid)
    with pytest.raises(ValidationError):
        update_product(shop.uow, shop.clock, pid, changes)
    assert shop.product(pid) == before


def test_update_of_unknown_product_is_not_found(shop: Shop) -> None:
    with pytest.raises(NotFound):
        update_product(shop.uow, shop.clock, 99, ProductChanges(name="x"))


def test_delete_is_soft_and_hides_the_product(shop: Shop) -> None:
    pid = shop.add_product()
    delete_product(shop.uow, shop.clock, pid)
    assert shop.product(pid).is_deleted
    with pytest.raises(NotFound):
        get_product(shop.uow, pid)
    assert get_product(shop.uow, pid, include_deleted=True).id == pid


def test_deleted_product_can_no_longer_be_ordered(shop: Shop) -> None:
    pid = shop.add_product(stock=5)
    delete_product(shop.uow, shop.clock, pid)
    with pytest.raises(ValidationError) as raised:
        place_order(shop.uow, shop.services,
                    PlaceOrder(shop.add_customer(), (CartLine(pid, 1),)))
    assert str(pid) in str(raised.value.field_errors)
    assert shop.stock(pid) == 5


def test_orders_placed_before_a_delete_keep_their_lines(shop: Shop) -> None:
    pid = shop.add_product("Mug", "10.00", 5)
    order = shop.place(shop.add_customer(), (pid, 2))
    delete_product(shop.uow, shop.clock, pid)
    stored = shop.order(order.id)
    assert [(line.product_id, line.name, line.quantity) for line in stored.lines] == [
        (pid, "Mug", 2)]


def test_delete_of_unknown_product_is_not_found(shop: Shop) -> None:
    with pytest.raises(NotFound):
        delete_product(shop.uow, shop.clock, 99)


def test_get_of_unknown_product_is_not_found(shop: Shop) -> None:
    with pytest.raises(NotFound):
        get_product(shop.uow, 99, include_deleted=True)


# --- listing -----------------------------------------------------------------------------

@pytest.fixture
def catalogue(shop: Shop) -> dict[str, int]:
    ids = {}
    for name, price, stock in [("Blue Mug", "30.00", 3), ("Teapot", "10.00", 0),
                               ("mug rack", "20.00", 1), ("Spoon", "5.00", 9)]:
        ids[name] = shop.add_product(name, price, stock)
        shop.clock.advance(timedelta(seconds=1))
    delete_product(shop.uow, shop.clock, ids["Spoon"])
    return ids


def names(shop: Shop, **query: object) -> list[str]:
    return [p.name for p in list_products(shop.uow, ProductQuery(**query)).items]  # type: ignore[arg-type]


def test_listing_shows_active_products_newest_first(shop: Shop, catalogue: object) -> None:
    assert names(shop) == ["mug rack", "Teapot", "Blue Mug"]


def test_listing_may_include_deleted_products(shop: Shop, catalogue: object) -> None:
    assert names(shop, include_deleted=True) == ["Spoon", "mug rack", "Teapot", "Blue Mug"]


def test_search_matches_the_name_case_insensitively(shop: Shop, catalogue: object) -> None:
    assert names(shop, search="MUG") == ["mug rack", "Blue Mug"]


def test_in_stock_hides_products_without_stock(shop: Shop, catalogue: object) -> None:
    assert names(shop, in_stock=True) == ["mug rack", "Blue Mug"]


@pytest.mark.parametrize(("ordering", "expected"), [
    (ProductOrdering.NAME, ["Blue Mug", "Teapot", "mug rack"]),
    (ProductOrdering.NAME_DESC, ["mug rack", "Teapot", "Blue Mug"]),
    (ProductOrdering.PRICE, ["Teapot", "mug rack", "Blue Mug"]),
    (ProductOrdering.PRICE_DESC, ["Blue Mug", "mug rack", "Teapot"]),
    (ProductOrdering.CREATED, ["Blue Mug", "Teapot", "mug rack"]),
    (ProductOrdering.CREATED_DESC, ["mug rack", "Teapot", "Blue Mug"]),
])
def test_listing_orders_as_asked(shop: Shop, catalogue: object, ordering: ProductOrdering,
                                 expected: list[str]) -> None:
    assert names(shop, ordering=ordering) == expected


def test_listing_is_paginated_with_a_total_count(shop: Shop, catalogue: object) -> None:
    query = ProductQuery(ordering=ProductOrdering.PRICE, page=PageRequest(1, 2))
    first = list_products(shop.uow, query)
    assert [p.name for p in first.items] == ["Teapot", "mug rack"]
    assert first.count == 3 and first.has_next and not first.has_previous
    second = list_products(shop.uow, ProductQuery(ordering=ProductOrdering.PRICE,
                                                  page=PageRequest(2, 2)))
    assert [p.name for p in second.items] == ["Blue Mug"]
    assert not second.has_next and second.has_previous
    beyond = list_products(shop.uow, ProductQuery(page=PageRequest(5, 2)))
    assert beyond.items == () and beyond.count == 3 and not beyond.has_next
