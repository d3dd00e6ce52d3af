"""Managing and browsing the catalogue. Every change staff make to stock is recorded in
the stock audit trail in the same transaction."""

from __future__ import annotations

from typing import TypeVar

from attrs import frozen

from shop_core.catalogue import Product, ProductQuery, StaleEdit, check_product
from shop_core.errors import Conflict, NotFound, Rule, ValidationError, Violation
from shop_core.money import Money
from shop_core.pagination import Page, PageRequest
from shop_core.ports import Clock, UnitOfWork
from shop_core.stock_audit import StockChange, StockChangeKind, check_adjustment

T = TypeVar("T")


@frozen
class ProductDetails:
    """A full product description, as created or replaced by an admin."""

    name: str
    price: Money
    stock: int
    description: str = ""


@frozen
class ProductChanges:
    """A partial update; None leaves a field as it is."""

    name: str | None = None
    description: str | None = None
    price: Money | None = None
    stock: int | None = None


def create_product(uow: UnitOfWork, clock: Clock, details: ProductDetails, *,
                   by: int | None = None, request_key: str | None = None) -> Product:
    """Add a product, its opening stock recorded as the first entry of its audit trail.
    The same `request_key` again (a form submitted twice) returns the product it made."""
    check_product(details.name, details.description, details.price, details.stock)
    now = clock.now()
    product = Product(id=None, name=details.name, description=details.description,
                      price=details.price, stock=details.stock, is_deleted=False,
                      created_at=now, updated_at=now)
    with uow:
        made = _made_by(uow, request_key)
        if made is not None:
            return made
        product = uow.products.add(product)
        assert product.id is not None
        if uow.stock_audit.add(StockChange(product.id, by, StockChangeKind.CREATED, 0,
                                           details.stock, "", now, request_key)):
            uow.commit()
            return product
    with uow:  # a concurrent submission of the same form won: this one is rolled back
        made = _made_by(uow, request_key)
    assert made is not None
    return made


def update_product(uow: UnitOfWork, clock: Clock, product_id: int, changes: ProductChanges,
                   *, by: int | None = None, expected_version: int | None = None) -> Product:
    """Apply an edit. Stock is written only when the edit names it, so that editing a
    description never undoes reservations made meanwhile; a new figure is recorded in the
    audit trail. With `expected_version` (the version the editor read), an edit made since
    raises `StaleEdit`, unless it already made exactly these changes (the same form sent
    twice), which is then a success that changes nothing."""
    with uow:
        product = uow.products.get(product_id)
        if product is None:
            raise NotFound("Product not found.")
        if expected_version is not None and product.version != expected_version:
            if _already_made(product, changes):
                return product
            raise StaleEdit("Someone changed this product since you opened it.")
        product.name = _given(changes.name, product.name)
        product.description = _given(changes.description, product.description)
        product.price = _given(changes.price, product.price)
        stock = _given(changes.stock, product.stock)
        check_product(product.name, product.description, product.price, stock)
        product.updated_at = clock.now()
        if not uow.products.save(product, expected_version=expected_version):
            raise StaleEdit("Someone changed this product since you opened it.")
        product.version += 1
        if changes.stock is not None:
            before = uow.products.set_stock(product_id, changes.stock)
            product.stock = changes.stock
            if before != changes.stock:
                uow.stock_audit.add(StockChange(product_id, by, StockChangeKind.SET, before,
                                                changes.stock, "", product.updated_at))
        uow.commit()
    return product


def delete_product(uow: UnitOfWork, clock: Clock, product_id: int) -> None:
    """Soft delete: the product can no longer be ordered; placed orders keep their lines."""
    _set_deleted(uow, clock, product_id, deleted=True)


def restore_product(uow: UnitOfWork, clock: Clock, product_id: int) -> Product:
    """Undo a soft delete: the product can be ordered again."""
    return _set_deleted(uow, clock, product_id, deleted=False)


@frozen
class StockAdjusted:
    """The product after an adjustment, its audit entry, and whether this submission had
    already been applied (`replayed`: nothing changed this time)."""

    product: Product
    change: StockChange
    replayed: bool = False


def adjust_stock(uow: UnitOfWork, clock: Clock, product_id: int, delta: int, reason: str, *,
                 by: int, request_key: str) -> StockAdjusted:
    """Add (or, negative, take away) `delta` units with a reason, recorded in the audit
    trail with the stock before and after, as the database saw them. A delta never loses a
    concurrent reservation; the same `request_key` again is applied once."""
    check_adjustment(delta, reason)
    with uow:
        replay = _replayed(uow, product_id, request_key)
        if replay is not None:
            return replay
        product = uow.products.get(product_id)
        if product is None:
            raise NotFound("Product not found.")
        moved = uow.products.adjust_stock(product_id, delta)
        if moved is None:
            raise ValidationError({"quantity": [Violation(Rule.STOCK_SHORT, product.stock)]})
        before, after = moved
        change = StockChange(product_id, by, StockChangeKind.ADJUSTED, before, after,
                             reason.strip(), clock.now(), request_key)
        if uow.stock_audit.add(change):
            uow.commit()
            product.stock = after
            return StockAdjusted(product, change)
    with uow:  # the same submission, racing this one, was applied: this one rolled back
        replay = _replayed(uow, product_id, request_key)
    assert replay is not None
    return replay


def stock_history(uow: UnitOfWork, product_id: int, page: PageRequest) -> Page[StockChange]:
    """A product's stock audit trail, newest first."""
    with uow:
        return uow.stock_audit.list_for_product(product_id, page)


def get_product(uow: UnitOfWork, product_id: int, *, include_deleted: bool = False) -> Product:
    with uow:
        product = uow.products.get(product_id)
    if product is None or (product.is_deleted and not include_deleted):
        raise NotFound("Product not found.")
    return product


def list_products(uow: UnitOfWork, query: ProductQuery) -> Page[Product]:
    with uow:
        return uow.products.find(query)


def _given(value: T | None, current: T) -> T:
    return current if value is None else value


def _already_made(product: Product, changes: ProductChanges) -> bool:
    return all(value is None or value == getattr(product, name)
               for name, value in (("name", changes.name), ("description", changes.description),
                                   ("price", changes.price), ("stock", changes.stock)))


def _set_deleted(uow: UnitOfWork, clock: Clock, product_id: int, *, deleted: bool) -> Product:
    with uow:
        product = uow.products.get(product_id)
        if product is None:
            raise NotFound("Product not found.")
        if product.is_deleted is not deleted:
            product.is_deleted = deleted
            product.updated_at = clock.now()
            uow.products.save(product)
            product.version += 1
            uow.commit()
    return product


def _made_by(uow: UnitOfWork, request_key: str | None) -> Product | None:
    """The product an earlier submission of `request_key` created."""
    if request_key is None:
        return None
    change = uow.stock_audit.get_by_request_key(request_key)
    if change is None or change.kind is not StockChangeKind.CREATED:
        return None
    return uow.products.get(change.product_id)


def _replayed(uow: UnitOfWork, product_id: int, request_key: str) -> StockAdjusted | None:
    change = uow.stock_audit.get_by_request_key(request_key)
    if change is None:
        return None
    if change.product_id != product_id or change.kind is not StockChangeKind.ADJUSTED:
        raise Conflict("This form was already used for another change; reload the page.")
    product = uow.products.get(product_id)
    assert product is not None
    return StockAdjusted(product, change, replayed=True)
