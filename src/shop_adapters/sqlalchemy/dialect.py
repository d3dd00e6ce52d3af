"""What differs between the two databases the shop runs on, decided once per `Database`.

Repositories ask this object instead of testing the connection's dialect name each time, so
every SQLite/PostgreSQL difference in the SQL the shop writes is read here or at a call of
`is_postgresql`."""

from __future__ import annotations

from datetime import UTC, datetime
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

    def upsert(self, table: sa.Table, key_columns: list[str], values: dict[str, Any]) -> Any:
        """INSERT `values`, or UPDATE the other columns of the row with the same key."""
        if self.is_postgresql:
            insert: Any = postgresql.insert(table)
        else:
            from sqlalchemy.dialects import sqlite

            insert = sqlite.insert(table)
        statement = insert.values(**values)
        return statement.on_conflict_do_update(
            index_elements=key_columns,
            set_={name: statement.excluded[name] for name in values if name not in key_columns})

    def among(self, column: sa.Column[int], ids: list[int]) -> sa.ColumnElement[bool]:
        """`column IN ids`; on PostgreSQL as one array parameter, not a thousand binds."""
        if self.is_postgresql:
            return column == sa.any_(sa.bindparam(None, ids, type_=postgresql.ARRAY(sa.Integer)))
        return column.in_(ids)

    def hour_of(self, column: sa.Column[datetime]) -> sa.ColumnElement[Any]:
        """The UTC hour a time falls in, to group by; `hour_value` reads it back."""
        if self.is_postgresql:  # the shop's sessions run in UTC
            return sa.func.date_trunc("hour", column)
        # SQLite keeps naive UTC text, "YYYY-MM-DD HH:MM:SS...": the hour is its first 13.
        return sa.func.substr(column, 1, 13)

    def hour_value(self, value: Any) -> datetime:
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return datetime.strptime(str(value), "%Y-%m-%d %H").replace(tzinfo=UTC)
