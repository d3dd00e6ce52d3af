"""The SQL repositories of the core's ports: products and their stock."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from attrs import evolve
from sqlalchemy.dialects import postgresql

from shop_adapters.sqlalchemy.repositories.base import (
    LIKE_ESCAPE,
    PageStatements,
    Repository,
    like_escaped,
)
from shop_adapters.sqlalchemy.tables import (
    products,
)
from shop_core.catalogue import (
    Product,
    ProductOrdering,
    ProductQuery,
    Reservation,
    Shortfall,
    StockLine,
    per_product,
)
from shop_core.money import Money
from shop_core.pagination import Page


def _product(row: Sequence[Any]) -> Product:
    """A product from a row of `select(products)`, unpacked by position in the table's column
    order: a Row's attribute access costs many times more, on every product of every page."""
    (product_id, name, description, price, currency, stock, is_deleted, created_at,
     updated_at, version, *_) = row
    return Product(id=product_id, name=name, description=description,
                   price=Money(price, currency), stock=stock, is_deleted=is_deleted,
                   created_at=created_at, updated_at=updated_at, version=version)


_PRODUCT_ORDER: dict[ProductOrdering, tuple[sa.Column[Any], bool]] = {
    ProductOrdering.NAME: (products.c.name, False),
    ProductOrdering.NAME_DESC: (products.c.name, True),
    ProductOrdering.PRICE: (products.c.price, False),
    ProductOrdering.PRICE_DESC: (products.c.price, True),
    ProductOrdering.CREATED: (products.c.created_at, False),
    ProductOrdering.CREATED_DESC: (products.c.created_at, True),
}


@functools.cache
def _product_listing(ordering: ProductOrdering, *, include_deleted: bool, in_stock: bool,
                     searching: bool, stock_below: bool) -> PageStatements:
    conditions: list[sa.ColumnElement[bool]] = []
    if not include_deleted:
        conditions.append(~products.c.is_deleted)
    if in_stock:
        conditions.append(products.c.stock > 0)
    if stock_below:
        conditions.append(products.c.stock < sa.bindparam("stock_below", type_=sa.Integer))
    if searching:
        conditions.append(products.c.name.icontains(sa.bindparam("search", type_=sa.String),
                                                    escape=LIKE_ESCAPE))
    column, descending = _PRODUCT_ORDER[ordering]
    # The id breaks ties, in the same direction, so pages never overlap or skip.
    order_by = ([column.desc(), products.c.id.desc()] if descending
                else [column.asc(), products.c.id.asc()])
    return PageStatements.build(products, conditions, order_by)


_PRODUCT_BY_ID = sa.select(products).where(products.c.id == sa.bindparam("product_id"))
_PRODUCTS_BY_IDS = sa.select(products).where(
    products.c.id.in_(sa.bindparam("product_ids", expanding=True)))
# Takes `wanted` units if that many are left; the WHERE clause is the guard (see `reserve`).
# The row comes back as it is now, in the same round trip: a product left with none is
# announced.
_TAKE_STOCK = (products.update()
               .where(products.c.id == sa.bindparam("product_id"),
                      products.c.stock >= sa.bindparam("wanted"), ~products.c.is_deleted)
               .values(stock=products.c.stock - sa.bindparam("wanted"))
               .returning(*products.c))
_GIVE_BACK_STOCK = (products.update().where(products.c.id == sa.bindparam("product_id"))
                    .values(stock=products.c.stock + sa.bindparam("returned")))
# A staff adjustment: a delta applied under the row lock, guarded like a reservation.
_ADJUST_STOCK = (products.update()
                 .where(products.c.id == sa.bindparam("product_id"),
                        products.c.stock + sa.bindparam("delta") >= 0)
                 .values(stock=products.c.stock + sa.bindparam("delta"))
                 .returning(products.c.stock))


class SqlProductRepository(Repository):
    def add(self, product: Product) -> Product:
        product_id = self._conn.execute(products.insert().values(
            name=product.name, description=product.description,
            price=product.price.amount, currency=product.price.currency,
            stock=product.stock, is_deleted=product.is_deleted,
            created_at=product.created_at, updated_at=product.updated_at,
        ).returning(products.c.id)).scalar_one()
        return evolve(product, id=product_id)

    def get(self, product_id: int) -> Product | None:
        row = self._conn.execute(_PRODUCT_BY_ID, {"product_id": product_id}).first()
        return _product(row) if row is not None else None

    def get_many(self, product_ids: Iterable[int]) -> dict[int, Product]:
        ids = sorted(set(product_ids))
        if not ids:
            return {}
        rows = self._conn.execute(_PRODUCTS_BY_IDS, {"product_ids": ids})
        return {row.id: _product(row) for row in rows}

    def save(self, product: Product, *, expected_version: int | None = None) -> bool:
        # Never stock: a concurrent reservation must not be overwritten by an edit.
        statement = products.update().where(products.c.id == product.id)
        if expected_version is not None:
            statement = statement.where(products.c.version == expected_version)
        result = self._conn.execute(statement.values(
            name=product.name, description=product.description,
            price=product.price.amount, currency=product.price.currency,
            is_deleted=product.is_deleted, updated_at=product.updated_at,
            version=products.c.version + 1))
        return result.rowcount == 1

    def set_stock(self, product_id: int, stock: int) -> int:
        # The row is locked first so that the figure replaced is the one overwritten, not
        # one a reservation changed in between (FOR NO KEY UPDATE: see `_give_back`).
        before = self._conn.execute(
            sa.select(products.c.stock).where(products.c.id == product_id)
            .with_for_update(key_share=True)).scalar_one()
        self._conn.execute(
            products.update().where(products.c.id == product_id).values(stock=stock))
        return int(before)

    def adjust_stock(self, product_id: int, delta: int) -> tuple[int, int] | None:
        after = self._conn.execute(
            _ADJUST_STOCK, {"product_id": product_id, "delta": delta}).scalar_one_or_none()
        if after is None:
            return None
        return after - delta, after

    def find(self, query: ProductQuery) -> Page[Product]:
        statements = _product_listing(query.ordering, include_deleted=query.include_deleted,
                                      in_stock=query.in_stock, searching=bool(query.search),
                                      stock_below=query.stock_below is not None)
        values: dict[str, Any] = {"stock_below": query.stock_below}
        if query.search:
            values["search"] = like_escaped(query.search)
        rows, count = self._page(statements, values, query.page)
        return Page(items=[_product(row) for row in rows], count=count, request=query.page)

    def reserve(self, lines: Sequence[StockLine]) -> Reservation:
        # One conditional UPDATE per line, in ascending id order (the order every writer
        # locks product rows in, so concurrent carts cannot deadlock). The WHERE clause is
        # re-checked after any row-lock wait, so stock can neither go negative nor lose an
        # update; there is no read-then-write. Every line is tried, so that every short line
        # is reported; if any fell short, none is kept (see `_put_back`). No SAVEPOINT: on the
        # success path it would cost round trips while the hot product's row lock is held.
        taken: list[StockLine] = []
        short: list[StockLine] = []
        sold_out: list[Product] = []
        for line in sorted(lines, key=lambda line: line.product_id):
            row = self._conn.execute(
                _TAKE_STOCK, {"product_id": line.product_id, "wanted": line.quantity}).first()
            (taken if row is not None else short).append(line)
            if row is not None and row.stock == 0:
                sold_out.append(_product(row))
        if not short:
            self._uow.movements.reserved += sum(line.quantity for line in taken)
            return Reservation(sold_out=tuple(sold_out))
        self._put_back(taken)
        available = self._available([line.product_id for line in short])
        # The figure is for the client's information: it was too small at the moment of the
        # attempt, so it is never shown as enough even if stock came back since.
        return Reservation(shortfalls=tuple(
            Shortfall(line.product_id, line.quantity,
                      max(0, min(available.get(line.product_id, 0), line.quantity - 1)))
            for line in short))

    def release(self, lines: Sequence[StockLine]) -> None:
        self._uow.movements.released += sum(line.quantity for line in lines)
        self._give_back(lines)

    def _put_back(self, taken: Sequence[StockLine]) -> None:
        """Undo a reservation that fell short, for a caller that goes on in this transaction
        (a late payment flags the order instead); placing an order rolls back anyway. The
        rows are still locked by this transaction, so plain UPDATEs put the units back
        without asking for a lock again: a `SELECT ... FOR UPDATE` here would wait on the
        key-share locks other carts' order lines hold on these rows while they wait on ours,
        a deadlock."""
        if taken:
            self._add_stock(taken)

    def _add_stock(self, lines: Sequence[StockLine]) -> None:
        """One UPDATE per line (an executemany), adding its units to its product."""
        self._conn.execute(_GIVE_BACK_STOCK, [
            {"product_id": line.product_id, "returned": line.quantity} for line in lines])

    def _give_back(self, lines: Sequence[StockLine]) -> None:
        summed = per_product(lines)  # one row per product, below
        if not summed:
            return
        if len(summed) == 1:
            [line] = summed
            self._conn.execute(_GIVE_BACK_STOCK,
                               {"product_id": line.product_id, "returned": line.quantity})
            return
        if self._dialect.is_postgresql:
            # Set-based (the expiry sweep releases one line per product per batch of
            # orders): two statements instead of one UPDATE per product. The rows are locked
            # first in ascending id order, the order reservations lock them in, because an
            # UPDATE ... FROM locks in whatever order its join plan yields and could deadlock
            # with a cart. FOR NO KEY UPDATE is the lock an UPDATE takes anyway; FOR UPDATE
            # would also wait on the key-share locks of order lines being inserted.
            id_array = sa.bindparam("ids", [line.product_id for line in summed],
                                    type_=postgresql.ARRAY(sa.Integer))
            self._conn.execute(
                sa.select(products.c.id).where(products.c.id == sa.any_(id_array))
                .order_by(products.c.id).with_for_update(key_share=True))
            given = sa.func.unnest(
                id_array, sa.bindparam("quantities", [line.quantity for line in summed],
                                       type_=postgresql.ARRAY(sa.Integer)),
            ).table_valued("id", "q").render_derived(name="v")
            self._conn.execute(
                products.update().where(products.c.id == given.c.id)
                .values(stock=products.c.stock + given.c.q))
            return
        # SQLite, in-process: one executemany, in ascending id order.
        self._add_stock(summed)

    def _available(self, product_ids: list[int]) -> dict[int, int]:
        rows = self._conn.execute(
            sa.select(products.c.id, products.c.stock, products.c.is_deleted)
            .where(products.c.id.in_(product_ids)))
        return {row.id: 0 if row.is_deleted else row.stock for row in rows}
