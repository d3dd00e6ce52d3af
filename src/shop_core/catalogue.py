"""Products, their stock, and the rules a product must keep."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime

from attrs import define, frozen

from shop_core.errors import Conflict, Rule, ValidationError, Violation
from shop_core.money import Money
from shop_core.pagination import PageRequest

NAME_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 10_000
# Bounds keep totals inside a signed 64-bit column: price x quantity x 100 lines.
MAX_PRICE_MINOR = 10**10
MAX_STOCK = 2**31 - 1


@define
class Product:
    """Something the shop sells. `id` is None until the product is stored."""

    id: int | None
    name: str
    description: str
    price: Money
    stock: int
    is_deleted: bool
    created_at: datetime
    updated_at: datetime
    # Counts the edits of everything but stock, so that a form read at one version cannot
    # overwrite an edit made since (stock moves by deltas and never goes stale).
    version: int = 1


class StaleEdit(Conflict):
    """The product changed since the editor read it; applying the edit would lose that."""


@frozen
class StockLine:
    """A quantity of one product, as reserved or released."""

    product_id: int
    quantity: int


def per_product(lines: Iterable[StockLine]) -> list[StockLine]:
    """One line per product with its quantities summed, in ascending product-id order (the
    order every writer locks product rows in)."""
    totals: dict[int, int] = {}
    for line in lines:
        totals[line.product_id] = totals.get(line.product_id, 0) + line.quantity
    return [StockLine(product_id, totals[product_id]) for product_id in sorted(totals)]


@frozen
class Shortfall:
    """A line that asked for more than was available."""

    product_id: int
    requested: int
    available: int


@frozen
class Reservation:
    """What a reservation did: everything, leaving `sold_out` products with no stock; or
    nothing, for the `shortfalls`."""

    shortfalls: tuple[Shortfall, ...] = ()
    sold_out: tuple[Product, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.shortfalls


class OutOfStock(Conflict):
    """One or more cart lines ask for more units than are available."""

    def __init__(self, shortfalls: Sequence[Shortfall]) -> None:
        super().__init__("Not enough stock for some items.")
        self.unavailable = tuple(shortfalls)


class ProductOrdering(enum.Enum):
    NAME = "name"
    NAME_DESC = "-name"
    PRICE = "price"
    PRICE_DESC = "-price"
    CREATED = "created_at"
    CREATED_DESC = "-created_at"


@frozen
class ProductQuery:
    """What a catalogue listing asks for."""

    search: str | None = None
    in_stock: bool = False
    ordering: ProductOrdering = ProductOrdering.CREATED_DESC
    include_deleted: bool = False
    # Only products with fewer units than this (1: out of stock), for the back-office.
    stock_below: int | None = None
    page: PageRequest = PageRequest()


def check_product(name: str, description: str, price: Money, stock: int) -> None:
    """Raise `ValidationError` naming every field that breaks the catalogue's rules."""
    errors: dict[str, list[Violation]] = {}
    if not name.strip():
        errors["name"] = [Violation(Rule.BLANK)]
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = [Violation(Rule.TOO_LONG, NAME_MAX_LENGTH)]
    if len(description) > DESCRIPTION_MAX_LENGTH:
        errors["description"] = [Violation(Rule.TOO_LONG, DESCRIPTION_MAX_LENGTH)]
    if price.amount <= 0:
        errors["price"] = [Violation(Rule.NOT_POSITIVE)]
    elif price.amount > MAX_PRICE_MINOR:
        errors["price"] = [Violation(Rule.PRICE_TOO_HIGH, Money(MAX_PRICE_MINOR, price.currency))]
    errors.update(_stock_errors(stock))
    if errors:
        raise ValidationError(errors)


def _stock_errors(stock: int) -> dict[str, list[Violation]]:
    """`{"stock": [...]}` when `stock` is not a count the stock column can hold."""
    if stock < 0:
        return {"stock": [Violation(Rule.NEGATIVE)]}
    if stock > MAX_STOCK:
        return {"stock": [Violation(Rule.ABOVE_MAXIMUM, MAX_STOCK)]}
    return {}
