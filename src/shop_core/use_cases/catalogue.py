"""Managing and browsing the catalogue."""

from __future__ import annotations

from typing import TypeVar

from attrs import frozen

from shop_core.catalogue import Product, ProductQuery, check_product
from shop_core.errors import NotFound
from shop_core.money import Money
from shop_core.pagination import Page
from shop_core.ports import Clock, UnitOfWork

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


def create_product(uow: UnitOfWork, clock: Clock, details: ProductDetails) -> Product:
    check_product(details.name, details.description, details.price, details.stock)
    now = clock.now()
    product = Product(id=None, name=details.name, description=details.description,
                      price=details.price, stock=details.stock, is_deleted=False,
                      created_at=now, updated_at=now)
    with uow:
        product = uow.products.add(product)
        uow.commit()
    return product


def update_product(uow: UnitOfWork, clock: Clock, product_id: int,
                   changes: ProductChanges) -> Product:
    """Apply an admin's edit. Stock is written only when the edit names it, so that editing a
    description never undoes reservations made meanwhile."""
    with uow:
        product = uow.products.get(product_id)
        if product is None:
            raise NotFound("Product not found.")
        product.name = _given(changes.name, product.name)
        product.description = _given(changes.description, product.description)
        product.price = _given(changes.price, product.price)
        stock = _given(changes.stock, product.stock)
        check_product(product.name, product.description, product.price, stock)
        product.updated_at = clock.now()
        uow.products.save(product)
        if changes.stock is not None:
            uow.products.set_stock(product_id, changes.stock)
            product.stock = changes.stock
        uow.commit()
    return product


def delete_product(uow: UnitOfWork, clock: Clock, product_id: int) -> None:
    """Soft delete: the product can no longer be ordered; placed orders keep their lines."""
    with uow:
        product = uow.products.get(product_id)
        if product is None:
            raise NotFound("Product not found.")
        product.is_deleted = True
        product.updated_at = clock.now()
        uow.products.save(product)
        uow.commit()


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
