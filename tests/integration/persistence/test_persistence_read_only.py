"""Read-only units of work: they read, never write, and never queue behind a writer."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from shop_adapters.sqlalchemy.database import Database
from shop_adapters.sqlalchemy.uow import ReadOnlyCommit, SqlAlchemyUnitOfWork
from shop_core.catalogue import ProductQuery, StockLine

from .support import ProductMaker, UserMaker, new_user, stock_of


def test_a_read_only_unit_of_work_reads_what_was_committed(
        db: Database, make_product: ProductMaker) -> None:
    mug = make_product(name="Mug", stock=4)
    with db.unit_of_work(read_only=True) as uow:
        assert uow.products.get(mug.id or 0) == mug
        page = uow.products.find(ProductQuery())
        assert page.count == 1 and list(page.items) == [mug]
    with db.unit_of_work(read_only=True) as uow:  # it can be entered again
        assert uow.products.get_many([mug.id or 0]) == {mug.id: mug}


def test_commit_on_a_read_only_unit_of_work_raises(db: Database) -> None:
    with db.unit_of_work(read_only=True) as uow, pytest.raises(ReadOnlyCommit):
        uow.commit()


def test_a_write_through_a_read_only_unit_of_work_fails_and_persists_nothing(
        db: Database, make_product: ProductMaker, make_user: UserMaker) -> None:
    mug = make_product(stock=5)
    make_user(username="alice")
    with db.unit_of_work(read_only=True) as uow:
        # PostgreSQL: "cannot execute UPDATE in a read-only transaction"; SQLite:
        # "attempt to write a readonly database" (query_only).
        with pytest.raises(sa.exc.DBAPIError):
            uow.products.reserve([StockLine(mug.id or 0, 2)])
        with pytest.raises(sa.exc.DBAPIError):
            uow.products.set_stock(mug.id or 0, 99)
        with pytest.raises(sa.exc.DBAPIError):
            uow.users.add(new_user("bob"))
        if db.is_postgresql:  # autocommit: the failed write left no aborted transaction
            assert uow.products.get(mug.id or 0) == mug
    assert stock_of(db, mug.id or 0) == 5
    with db.unit_of_work() as uow:
        assert uow.users.get_by_username("bob") is None


def test_a_read_only_unit_of_work_does_not_wait_for_an_open_writer(
        db: Database, make_product: ProductMaker) -> None:
    mug = make_product(stock=5)
    with db.unit_of_work() as writer:  # holds SQLite's write lock, PostgreSQL's row lock
        writer.products.set_stock(mug.id or 0, 1)
        started = time.monotonic()
        with db.unit_of_work(read_only=True) as reader, \
                db.unit_of_work(read_only=True) as other_reader:
            assert reader.products.get(mug.id or 0) == mug  # the committed stock, 5
            assert other_reader.products.find(ProductQuery()).count == 1
        assert time.monotonic() - started < 5  # not the 30 s busy timeout
        writer.commit()
    assert stock_of(db, mug.id or 0) == 1


def test_read_only_sends_no_begin_on_postgresql_and_begins_deferred_on_sqlite(
        db: Database) -> None:
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    uow = db.unit_of_work(read_only=True)
    assert isinstance(uow, SqlAlchemyUnitOfWork)
    sa.event.listen(db.read_engine, "before_cursor_execute", record)
    try:
        with uow:
            uow.products.get(1)
            if db.is_postgresql:
                assert uow.connection.connection.dbapi_connection.autocommit  # type: ignore[union-attr]
                shown = uow.connection.exec_driver_sql("SHOW transaction_read_only")
                assert shown.scalar_one() == "on"
    finally:
        sa.event.remove(db.read_engine, "before_cursor_execute", record)
    if db.is_sqlite:
        assert statements[0] == "BEGIN DEFERRED"
    else:
        assert not any(s.upper().startswith("BEGIN") for s in statements)


def test_a_read_write_unit_of_work_is_unchanged_by_read_only_ones(
        db: Database, make_product: ProductMaker) -> None:
    mug = make_product(stock=5)
    with db.unit_of_work(read_only=True) as uow:
        uow.products.get(mug.id or 0)
    with db.unit_of_work() as uow:
        uow.products.set_stock(mug.id or 0, 7)
        uow.commit()
    assert stock_of(db, mug.id or 0) == 7
