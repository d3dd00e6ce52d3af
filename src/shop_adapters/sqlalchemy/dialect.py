"""What differs between the two databases the shop runs on, decided once per `Database`.

Repositories ask this object instead of testing the connection's dialect name each time, so
every SQLite/PostgreSQL difference in the SQL the shop writes is read here or at a call of
`is_postgresql`."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from attrs import frozen
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine

SUPPORTED = ("postgresql", "sqlite")


@frozen
class SqlDialect:
    name: str

    @classmethod
    def of(cls, engine: Engine) -> SqlDialect:
        name = engine.dialect.name
        if name not in SUPPORTED:
            raise NotImplementedError(f"The shop runs on {' or '.join(SUPPORTED)}, not {name}")
        return cls(name)

    @property
    def is_postgresql(self) -> bool:
        return self.name == "postgresql"

    @property
    def is_sqlite(self) -> bool:
        return self.name == "sqlite"

    def insert_ignoring_conflict(self, table: sa.Table, conflict_columns: list[str]) -> Any:
        """INSERT ... ON CONFLICT (conflict_columns) DO NOTHING."""
        if self.is_postgresql:
            return postgresql.insert(table).on_conflict_do_nothing(
                index_elements=conflict_columns)
        # Imported here: a PostgreSQL deployment need not carry SQLite's dialect in every
        # worker's memory.
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict_columns)

    def among(self, column: sa.Column[int], ids: list[int]) -> sa.ColumnElement[bool]:
        """`column IN ids`; on PostgreSQL as one array parameter, not a thousand binds."""
        if self.is_postgresql:
            return column == sa.any_(sa.bindparam(None, ids, type_=postgresql.ARRAY(sa.Integer)))
        return column.in_(ids)
