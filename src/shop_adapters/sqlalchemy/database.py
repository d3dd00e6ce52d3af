"""The engine, configured per dialect, and the factory of units of work."""

from __future__ import annotations

import select
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import DisconnectionError, OperationalError

from shop_adapters.outages import OutageLog
from shop_adapters.sqlalchemy.dialect import SqlDialect
from shop_adapters.sqlalchemy.movements import MovementObserver
from shop_adapters.sqlalchemy.uow import SQLITE_BEGIN_OPTION, SqlAlchemyUnitOfWork
from shop_core.errors import Unavailable
from shop_core.ports import UnitOfWork

# How long an SQLite connection waits for another writer before giving up. Write
# transactions here are short (no network call is ever made inside one), so waiting is
# always better than failing with "database is locked".
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0

# PostgreSQL connections per process: 20 at most, so size max_connections for
# (web processes + workers) x 20.
# Readers: a catalogue page or an order view, one short query each; they never block one
# another. All 16 are kept once opened: "overflow" connections above a smaller pool were
# closed on return, so a process serving more reads at once than the pool held opened a
# PostgreSQL session (a server process) for most of the extra requests.
READ_POOL_SIZE = 16
# Writers: four transactions at a time per process, the others queue for a connection here.
# Write transactions hold no network call but the database's, so more of them at once only
# queue inside PostgreSQL instead, where waiting is dearer: many orders at once for one
# popular product keep its row lock's queue as deep and PostgreSQL busy re-checking it.
WRITE_POOL_SIZE = 4
# A request waits this long for a connection before it is answered 503.
POOL_TIMEOUT_SECONDS = 10


class Database:
    """Two engines per process (read-write, and read-only below); `unit_of_work()` is cheap
    and may be called per request.

    SQLite (the embedded default) runs in WAL mode with foreign keys enforced and a busy
    timeout. Every read-write unit of work on SQLite starts with ``BEGIN IMMEDIATE``: SQLite
    has one writer at a time, and a transaction that began as a reader and later tries to
    write fails at once with SQLITE_BUSY (no busy-timeout wait is possible when its snapshot
    is stale) - the classic "database is locked". Taking the write lock up front makes
    writers queue on the busy timeout instead, and serializing whole units of work means a
    read-then-conditional-write can never lose an update. Read-only units of work, readers
    outside units of work (the `ping`) and WAL readers in other processes are not blocked.
    The cost, one writer at a time, is what SQLite does anyway; PostgreSQL is the choice for
    heavy concurrent load.

    PostgreSQL uses psycopg 3 with a bounded pool, at READ COMMITTED: the
    repositories' conditional UPDATEs re-check their WHERE clause after waiting for a row
    lock, which is what keeps stock and order status exact under concurrency.

    Read-only units of work (`unit_of_work(read_only=True)`, for catalogue pages and order
    views) use a second engine, `read_engine`, whose connections cannot write:
    - PostgreSQL: AUTOCOMMIT, so a page costs its queries and no BEGIN/ROLLBACK round trips,
      and every connection is opened with ``default_transaction_read_only=on`` (a startup
      option, so it costs nothing per request), which makes the server refuse any write.
      The guard has to be on the server: in AUTOCOMMIT a write would persist at once, and
      psycopg's ``read_only`` attribute (SQLAlchemy's ``postgresql_readonly``) only changes
      the BEGIN that AUTOCOMMIT never sends. Each statement sees its own snapshot; the reads
      that span two statements (an order and its lines) read rows written together once.
    - SQLite: ``BEGIN DEFERRED`` (a WAL reader: it neither waits for nor blocks the writer,
      nor other readers) on connections with ``PRAGMA query_only=ON``.
    A separate engine rather than per-checkout settings: nothing to set and reset on every
    checkout, and a read connection can never go back to the pool still read-only for a
    writer (or writable for a reader).
    """

    def __init__(self, url: str, *, observer: MovementObserver | None = None) -> None:
        self.url: URL = make_url(url)
        self.observer = observer  # told what each committed unit of work did to stock
        self.outage = OutageLog("The database")
        self.engine: Engine = _create_engine(self.url)
        self.read_engine: Engine = (
            self.engine if _in_memory(self.url) else _create_engine(self.url, read_only=True))
        self.dialect = SqlDialect.of(self.engine)

    @property
    def is_postgresql(self) -> bool:
        return self.dialect.is_postgresql

    @property
    def is_sqlite(self) -> bool:
        return self.dialect.is_sqlite

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        """A new unit of work. A read-only one (see the class) reads without write locks or,
        on PostgreSQL, transaction round trips; its `commit()` raises, and any write through
        it is refused by the database."""
        if read_only:
            return SqlAlchemyUnitOfWork(self.read_engine, read_only=True, outage=self.outage,
                                        dialect=self.dialect)
        return SqlAlchemyUnitOfWork(self.engine, observer=self.observer, outage=self.outage,
                                    dialect=self.dialect)

    def ping(self) -> None:
        """Raise (an `sqlalchemy.exc.OperationalError`) when the database is unreachable."""
        with self.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
            connection.rollback()

    @contextmanager
    def exclusively(self, duty: str) -> Iterator[bool]:
        """Whether this process, among all those on this database, has `duty` to itself for
        the block (False: another one is doing it now). For duties that are safe to run at
        once but wasteful to: on PostgreSQL a session advisory lock, which the server drops if
        the process dies; SQLite is one machine's, where every caller may go ahead.
        `Unavailable` when the database cannot be reached."""
        if not self.is_postgresql:
            yield True
            return
        key = zlib.crc32(duty.encode())  # the same number in every process
        try:
            # From the readers' pool (advisory locks need no write): a duty may hold its
            # lock across calls to the payment provider (reconciliation), and must not take
            # one of the few writers' connections for that long.
            connection = self.read_engine.connect()
            held = connection.execute(sa.select(sa.func.pg_try_advisory_lock(key))).scalar()
            connection.commit()
        except OperationalError as error:
            self.outage.failed(error)
            raise Unavailable("The database is unavailable right now.") from error
        try:
            yield bool(held)
        finally:
            try:
                if held:
                    connection.execute(sa.select(sa.func.pg_advisory_unlock(key)))
                    connection.commit()
            except OperationalError:
                connection.invalidate()  # the lock went with the session
            finally:
                connection.close()

    def dispose(self) -> None:
        """Close every pooled connection (at shutdown, or in a child after fork)."""
        self.engine.dispose()
        self.read_engine.dispose()


def _create_engine(url: URL, *, read_only: bool = False) -> Engine:
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, read_only=read_only)
    if backend == "postgresql":
        if url.get_driver_name() != "psycopg":
            # psycopg 3 is the one PostgreSQL driver installed; accept plain postgresql://.
            url = url.set(drivername="postgresql+psycopg")
        options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"} if read_only else {}
        engine = sa.create_engine(
            url,
            pool_size=READ_POOL_SIZE if read_only else WRITE_POOL_SIZE,
            max_overflow=0,  # a connection opened is kept: see READ_POOL_SIZE
            pool_timeout=POOL_TIMEOUT_SECONDS,
            # Not pool_pre_ping: its round trip on every checkout is a cost on every unit of
            # work. `_discard_hung_up` finds connections the server closed for the price of
            # a poll(2), and a connection that breaks mid-statement is invalidated with its
            # pool by SQLAlchemy. pool_recycle, shorter than common idle reapers (PgBouncer,
            # cloud load balancers: 5-10 min), replaces connections before they drop them.
            pool_recycle=300,
            connect_args=_postgres_connect_args(url, read_only=read_only),
            **options,
        )
        event.listen(engine, "checkout", _discard_hung_up)
        return engine
    return sa.create_engine(url)


def _discard_hung_up(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection the server has closed (a restart, an idle reaper), so the
    pool opens a fresh one instead of handing the request a dead one. An idle connection has
    nothing to read unless the server hung up (or left it a notice: reconnecting is then
    merely unneeded)."""
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("The connection was closed.")
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
    if poller.poll(0):
        raise DisconnectionError("The server closed the connection.")


def _postgres_connect_args(url: URL, *, read_only: bool) -> dict[str, Any]:
    """psycopg's parameters: the shop's defaults where the URL gives none (SQLAlchemy lets
    connect_args override the URL's), and the session settings the shop relies on after any
    `options` of the URL's, so that they hold (the last -c of a setting wins)."""
    defaults: dict[str, Any] = {
        "connect_timeout": 10, "application_name": "shop",
        # TCP keepalives keep an idle pooled connection's NAT/load-balancer entry alive and
        # let the kernel notice a dead server, without a query per checkout.
        "keepalives": 1, "keepalives_idle": 60, "keepalives_interval": 10,
        "keepalives_count": 3,
    }
    args = {key: value for key, value in defaults.items() if key not in url.query}
    given = url.query.get("options", ())
    session = [*([given] if isinstance(given, str) else given),
               # UTC whatever the server's default: psycopg then returns aware UTC datetimes
               # as they are, and `UTCDateTime` need not convert each one.
               "-c timezone=UTC"]
    if read_only:
        session.append("-c default_transaction_read_only=on")  # see `Database`
    args["options"] = " ".join(session)
    return args


def _in_memory(url: URL) -> bool:
    """An in-memory SQLite database exists once per engine, so its readers must share the
    writer's engine (without the query_only guard). The shop itself always uses a file."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _sqlite_engine(url: URL, *, read_only: bool = False) -> Engine:
    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (the "begin" hook below) instead of the
        # sqlite3 module's legacy implicit BEGIN, which would also break SAVEPOINTs.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cursor.execute("PRAGMA synchronous=NORMAL")  # durable enough with WAL, faster
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
            if read_only:
                cursor.execute("PRAGMA query_only=ON")  # any write fails: SQLITE_READONLY
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        if mode not in ("DEFERRED", "IMMEDIATE"):
            raise ValueError(f"Unknown SQLite transaction mode {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine
