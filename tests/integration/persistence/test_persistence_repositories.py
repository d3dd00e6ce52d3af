"""What only the SQL repositories promise: statement counts, dialect details, and types
round-tripping through real columns. The behaviour they share with the fakes is in
test_repository_contract."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from attrs import evolve

from shop_adapters.sqlalchemy.database import Database
from shop_adapters.sqlalchemy.migrate import upgrade
from shop_adapters.sqlalchemy.uow import SqlAlchemyUnitOfWork
from shop_core.catalogue import ProductOrdering, ProductQuery, Shortfall, StockLine
from shop_core.orders import OrderQuery, OrderStatus
from shop_core.pagination import PageRequest

from .support import (
    ProductMaker,
    UserMaker,
    a_line,
    add_product,
    an_order,
    later,
    place,
    stock_of,
)


class _StatementCounter:
    def __init__(self, db: Database) -> None:
        self.count = 0
        self._engine = db.engine

    def __enter__(self) -> _StatementCounter:
        sa.event.listen(self._engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_: object) -> None:
        sa.event.remove(self._engine, "before_cursor_execute", self._count)

    def _count(self, *_: object) -> None:
        self.count += 1


class _ReadCounter(_StatementCounter):
    """Counts the statements of read-only units of work (BEGIN DEFERRED on SQLite aside)."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._engine = db.read_engine

    def _count(self, *args: object) -> None:
        if args[2] != "BEGIN DEFERRED":
            self.count += 1


# -- unit of work ---------------------------------------------------------------------------

def test_database_reports_its_dialect_and_pings(db: Database) -> None:
    db.ping()
    assert db.is_postgresql == (db.engine.dialect.name == "postgresql")
    assert isinstance(db.unit_of_work(), SqlAlchemyUnitOfWork)


def test_ping_raises_when_the_database_is_unreachable(tmp_path: object) -> None:
    for url in (f"sqlite:///{tmp_path}/missing/dir/shop.db",
                "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"):
        database = Database(url)
        with pytest.raises(sa.exc.OperationalError):
            database.ping()
        database.dispose()


def test_times_come_back_in_utc_whatever_the_postgresql_time_zone(postgres_url: str) -> None:
    # The shop's sessions choose their own time zone: a database whose default is Tokyo's
    # changes neither the instant read back nor its UTC offset, on the writer or the reader.
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        name = conn.exec_driver_sql("SELECT current_database()").scalar()
        conn.exec_driver_sql(f"ALTER DATABASE \"{name}\" SET timezone = 'Asia/Tokyo'")
    admin.dispose()
    upgrade(postgres_url)
    database = Database(postgres_url)
    try:
        cairo = timezone(timedelta(hours=2))
        product = add_product(database, created_at=datetime(2026, 3, 1, 14, 0, tzinfo=cairo))
        for read_only in (False, True):
            with database.unit_of_work(read_only=read_only) as uow:
                stored = uow.products.get(product.id or 0)
                page = uow.products.find(ProductQuery())
            assert stored is not None and list(page.items) == [stored]
            assert stored.created_at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
            assert stored.created_at.tzinfo is UTC and stored.updated_at.tzinfo is UTC
    finally:
        database.dispose()


def test_settings_in_the_database_url_are_kept_beside_the_shops_own(postgres_url: str) -> None:
    # A DATABASE_URL may carry libpq settings (a statement timeout, an application name); the
    # shop adds its session settings without dropping them, on the writer and the reader.
    url = f"{postgres_url}?application_name=shop-eu&options=-c%20statement_timeout%3D4321"
    database = Database(url)
    try:
        for engine, read_only in ((database.engine, "off"), (database.read_engine, "on")):
            with engine.connect() as conn:
                shown = {name: conn.exec_driver_sql(f"SHOW {name}").scalar() for name in (
                    "statement_timeout", "application_name", "TimeZone",
                    "default_transaction_read_only")}
            assert shown == {"statement_timeout": "4321ms", "application_name": "shop-eu",
                             "TimeZone": "UTC", "default_transaction_read_only": read_only}
    finally:
        database.dispose()


def test_times_come_back_aware_utc_and_naive_ones_are_refused(
        db: Database, make_product: ProductMaker) -> None:
    cairo = timezone(timedelta(hours=2))
    product = make_product(created_at=datetime(2026, 3, 1, 14, 0, tzinfo=cairo))
    with db.unit_of_work() as uow:
        stored = uow.products.get(product.id or 0)
        assert stored is not None
        assert stored.created_at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        assert stored.created_at.utcoffset() == timedelta(0)
        stored.updated_at = datetime(2026, 3, 1, 12, 0)  # naive
        with pytest.raises(sa.exc.StatementError):
            uow.products.save(stored)


# -- products -------------------------------------------------------------------------------

def test_a_late_shortfall_gives_back_the_lines_taken_before_it_without_savepoints(
        db: Database, make_product: ProductMaker) -> None:
    a, b, c = make_product(stock=5), make_product(stock=5), make_product(stock=1)
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        with db.unit_of_work() as uow:
            # a and b (lower ids) are taken before c falls short, then given back.
            reservation = uow.products.reserve([StockLine(c.id or 0, 2),
                                                StockLine(a.id or 0, 3),
                                                StockLine(b.id or 0, 4)])
            assert reservation.shortfalls == (Shortfall(c.id or 0, 2, 1),)
            assert [uow.products.get(p.id or 0).stock  # type: ignore[union-attr]
                    for p in (a, b, c)] == [5, 5, 1]
            uow.commit()  # even committed, the failed reservation keeps nothing
        with db.unit_of_work() as uow:
            seen.clear()
            assert uow.products.reserve([StockLine(b.id or 0, 1), StockLine(a.id or 0, 1)]).complete
            uow.commit()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert [stock_of(db, p.id or 0) for p in (a, b, c)] == [4, 4, 1]
    # The success path is one conditional UPDATE per line, in id order, and nothing else.
    updates = [s for s in seen if not s.startswith(("BEGIN", "COMMIT"))]
    assert len(updates) == 2 and all(s.startswith("UPDATE products") for s in updates)
    assert not any("SAVEPOINT" in s.upper() for s in seen)


def test_release_gives_back_many_products_set_based_and_merges_repeated_ones(
        db: Database, make_product: ProductMaker) -> None:
    a, b, c = make_product(stock=0), make_product(stock=1), make_product(stock=2)
    with db.unit_of_work() as uow, _StatementCounter(db) as counter:
        uow.products.release([StockLine(b.id or 0, 2), StockLine(c.id or 0, 4),
                              StockLine(a.id or 0, 1), StockLine(b.id or 0, 3)])
        uow.commit()
    assert [stock_of(db, p.id or 0) for p in (a, b, c)] == [1, 6, 6]
    # PostgreSQL: lock the rows in id order, then one UPDATE ... FROM unnest(ids, qs);
    # SQLite: one executemany. Not one UPDATE per product.
    assert counter.count == (2 if db.is_postgresql else 1)
    with db.unit_of_work() as uow, _StatementCounter(db) as counter:
        uow.products.release([StockLine(a.id or 0, 5)])
        uow.products.release([])
        uow.commit()
    assert counter.count == 1 and stock_of(db, a.id or 0) == 6


def test_stock_can_never_go_negative_in_the_table(db: Database, make_product: ProductMaker
                                                  ) -> None:
    product = make_product(stock=1)
    with db.unit_of_work() as uow, pytest.raises(sa.exc.IntegrityError):
        uow.products.set_stock(product.id or 0, -1)


def test_find_products_filters_searches_orders_and_pages_in_sql(
        db: Database, make_product: ProductMaker) -> None:
    make_product(name="Blue Mug", price=300, stock=0, created_at=later(1))
    make_product(name="red mug", price=100, stock=5, created_at=later(2))
    make_product(name="Teapot", price=200, stock=5, created_at=later(3))
    make_product(name="Old MUG", price=50, stock=5, is_deleted=True, created_at=later(4))
    make_product(name="100%_off", price=10, stock=5, created_at=later(5))

    def names(**kw: object) -> list[str]:
        with db.unit_of_work() as uow:
            return [p.name for p in uow.products.find(ProductQuery(**kw)).items]  # type: ignore[arg-type]

    assert names() == ["100%_off", "Teapot", "red mug", "Blue Mug"]
    assert names(search="MUG") == ["red mug", "Blue Mug"]
    assert names(search="mug", include_deleted=True) == ["Old MUG", "red mug", "Blue Mug"]
    assert names(search="%_") == ["100%_off"]  # wildcards are matched literally
    assert names(search="_") == ["100%_off"]
    assert names(in_stock=True, ordering=ProductOrdering.PRICE) == [
        "100%_off", "red mug", "Teapot"]
    assert names(ordering=ProductOrdering.PRICE_DESC)[0] == "Blue Mug"
    assert names(ordering=ProductOrdering.NAME) == ["100%_off", "Blue Mug", "Teapot", "red mug"]
    assert names(ordering=ProductOrdering.CREATED) == [
        "Blue Mug", "red mug", "Teapot", "100%_off"]
    with db.unit_of_work() as uow:
        page = uow.products.find(ProductQuery(page=PageRequest(page=2, page_size=3)))
    assert page.count == 4 and [p.name for p in page.items] == ["Blue Mug"]
    assert page.has_previous and not page.has_next


def test_find_products_counts_with_the_page_and_still_counts_past_the_end(
        db: Database, make_product: ProductMaker) -> None:
    for i in range(5):
        make_product(name=f"P{i}", stock=i)

    def find(page: int, **kw: object) -> tuple[int, int, int]:
        with db.unit_of_work(read_only=True) as uow, _ReadCounter(db) as counter:
            found = uow.products.find(ProductQuery(
                page=PageRequest(page=page, page_size=2), **kw))  # type: ignore[arg-type]
        return found.count, len(found.items), counter.count

    # The page carries its total: one statement.
    assert find(1) == (5, 2, 1)
    assert find(3) == (5, 1, 1)
    assert find(4) == (5, 0, 2)  # past the end: the empty page carries no total, so COUNT
    assert find(1, search="nothing like it") == (0, 0, 1)  # an empty first page is 0
    assert find(2, in_stock=True) == (4, 2, 1)
    assert find(1, search="p3") == (1, 1, 1)


def test_equal_sort_keys_page_by_id_without_overlap(db: Database, make_product: ProductMaker
                                                    ) -> None:
    ids = [make_product(name=f"P{i}").id for i in range(5)]  # same created_at
    seen = []
    with db.unit_of_work() as uow:
        for page in (1, 2, 3):
            seen += [p.id for p in uow.products.find(
                ProductQuery(page=PageRequest(page=page, page_size=2))).items]
    assert seen == sorted((i or 0 for i in ids), reverse=True)


# -- orders ---------------------------------------------------------------------------------

def test_find_orders_newest_first_filtered_with_lines_in_constant_queries(
        db: Database, make_user: UserMaker, make_product: ProductMaker) -> None:
    alice, bob = make_user(username="alice"), make_user(username="bob")
    product = make_product()
    uow = db.unit_of_work()
    placed = [place(uow, an_order((alice if i % 3 else bob).id or 0,
                                 [a_line(product.id or 0, i + 1)], created=later(i % 4)))
              for i in range(12)]
    with uow:
        refund = evolve(placed[1], status=OrderStatus.SUCCESS, needs_refund=True)
        assert uow.orders.update(refund, expected_status=OrderStatus.PENDING)
        uow.commit()

    def ids(query: OrderQuery) -> list[int]:
        with uow:
            return [o.id or 0 for o in uow.orders.find(query).items]

    everyone = sorted(placed, key=lambda o: (o.created_at, o.id or 0), reverse=True)
    assert ids(OrderQuery(page=PageRequest(page_size=100))) == [o.id for o in everyone]
    assert ids(OrderQuery(user_id=bob.id, page=PageRequest(page_size=100))) == [
        o.id for o in everyone if o.user_id == bob.id]
    assert ids(OrderQuery(status=OrderStatus.SUCCESS)) == [placed[1].id]
    assert ids(OrderQuery(needs_refund=True)) == [placed[1].id]
    assert len(ids(OrderQuery(needs_refund=False, page=PageRequest(page_size=100)))) == 11

    for size in (2, 10):
        with uow, _StatementCounter(db) as counter:
            page = uow.orders.find(OrderQuery(page=PageRequest(page=1, page_size=size)))
        # Orders with their total, then lines: no query per order.
        assert counter.count == 2
        assert page.count == 12 and len(page.items) == size
        assert all(o.lines for o in page.items)
    with uow:
        page = uow.orders.find(OrderQuery(page=PageRequest(page=2, page_size=10)))
    assert [o.id for o in page.items] == [o.id for o in everyone[10:]]
    assert page.items[0] == everyone[10]


# -- payment events and idempotency keys ----------------------------------------------------

def test_a_catalogue_page_reads_products_exactly_as_get_does(
        db: Database, make_product: ProductMaker) -> None:
    # A page and `get` build products from their rows by position; every field must come
    # back whole: aware UTC timestamps to the microsecond, real booleans, non-ASCII text,
    # money in minor units.
    moments = [datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
               datetime(2026, 6, 30, 23, 59, 59, tzinfo=timezone(timedelta(hours=3))),
               datetime(2026, 12, 31, 0, 0, 0, 1, tzinfo=UTC)]
    made = [make_product(name=f"Tasse {i} ☕", price=100 * i + 7, stock=i, created_at=at,
                         is_deleted=i == 1)
            for i, at in enumerate(moments)]
    with db.unit_of_work(read_only=True) as uow:
        page = uow.products.find(ProductQuery(include_deleted=True,
                                              ordering=ProductOrdering.CREATED))
        expected = [uow.products.get(product.id or 0) for product in made]
    assert list(page.items) == expected and page.count == 3
    assert [p.is_deleted for p in page.items] == [False, True, False]
    assert all(type(p.is_deleted) is bool for p in page.items)  # noqa: E721 - not 0 or 1
    assert all(p.created_at.tzinfo is UTC for p in page.items)
    assert page.items[1].created_at == moments[1]  # the same instant, given in UTC
