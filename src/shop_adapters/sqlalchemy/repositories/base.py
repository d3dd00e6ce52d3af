"""What every SQL repository shares: its unit of work's connection, one page of rows with
their total, and insert-or-ignore."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from attrs import frozen
from sqlalchemy.engine import Connection, Row

from shop_adapters.sqlalchemy.dialect import SqlDialect
from shop_adapters.sqlalchemy.movements import StockMovements
from shop_core.pagination import PageRequest


class Connected(Protocol):
    """What a repository reads its connection from: the unit of work it belongs to."""

    @property
    def connection(self) -> Connection: ...

    @property
    def movements(self) -> StockMovements:
        """What this transaction did to stock and deadlines so far (for metrics)."""
        ...

    @property
    def dialect(self) -> SqlDialect: ...


LIKE_ESCAPE = "/"


def like_escaped(text: str) -> str:
    for special in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(special, LIKE_ESCAPE + special)
    return text


@frozen
class PageStatements:
    """One listing's statements, built once per shape of query (which filters are on) with
    bound parameters for the values: building a statement and its cache key on every request
    cost more than running it."""

    rows_with_total: sa.Select[Any]
    count: sa.Select[Any]

    @classmethod
    def build(cls, table: sa.Table, conditions: list[sa.ColumnElement[bool]],
              order_by: list[sa.UnaryExpression[Any]]) -> PageStatements:
        rows = (sa.select(table).where(*conditions).order_by(*order_by)
                .limit(sa.bindparam("page_limit")).offset(sa.bindparam("page_offset")))
        count = sa.select(sa.func.count()).select_from(table).where(*conditions)
        # Every matching row's count on each row of the page: the page and its total in one
        # statement, one round trip. An uncorrelated subquery, which both databases run
        # once; `count(*) OVER ()` instead made PostgreSQL materialize and sort every
        # matching row before the LIMIT, and SQLite too.
        total = count.scalar_subquery().label("total_count")
        return cls(rows_with_total=rows.add_columns(total), count=count)


class Repository:
    def __init__(self, uow: Connected) -> None:
        self._uow = uow

    @property
    def _conn(self) -> Connection:
        return self._uow.connection

    @property
    def _dialect(self) -> SqlDialect:
        return self._uow.dialect

    def _page(self, statements: PageStatements, values: dict[str, Any], page: PageRequest
              ) -> tuple[Sequence[Row[Any]], int]:
        """One page of the rows `statements` select with `values`, and how many match in
        all."""
        values = {**values, "page_limit": page.page_size, "page_offset": page.offset}
        rows = self._conn.execute(statements.rows_with_total, values).all()
        if rows:
            return rows, int(rows[0].total_count)
        if page.offset == 0:
            return rows, 0
        # Past the end: an empty page carries no total, so count separately.
        return rows, int(self._conn.execute(statements.count, values).scalar_one())

    def _insert_ignoring_conflict(self, table: sa.Table, values: dict[str, Any],
                                  conflict_columns: list[str]) -> bool:
        """INSERT ... ON CONFLICT DO NOTHING; True if the row was inserted. A concurrent
        duplicate waits for the first writer's outcome and is then skipped, never raised."""
        statement = self._dialect.insert_ignoring_conflict(table, conflict_columns)
        # RETURNING says reliably whether a row went in; rowcount does not on every driver
        # once SQLAlchemy adds its own implicit RETURNING of the primary key.
        inserted = statement.values(**values).returning(sa.literal_column("1"))
        return self._conn.execute(inserted).first() is not None


