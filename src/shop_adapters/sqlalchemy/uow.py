"""The unit of work: one database transaction over every repository."""

from __future__ import annotations

import logging
from types import TracebackType

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shop_adapters.outages import OutageLog
from shop_adapters.sqlalchemy import repositories as repos
from shop_adapters.sqlalchemy.dialect import SqlDialect
from shop_adapters.sqlalchemy.movements import MovementObserver, StockMovements
from shop_core.errors import Unavailable
from shop_core.ports import UnitOfWork

log = logging.getLogger(__name__)

# How an SQLite transaction starts; a connection's execution option chooses it (`Database`
# installs the hook that reads it).
SQLITE_BEGIN_OPTION = "shop_sqlite_begin"


def _unavailable(error: OperationalError | PoolTimeout, outage: OutageLog | None, *,
                 connecting: bool = False) -> Unavailable:
    """The core's error for a failure the caller may retry. A lost or refused connection is
    an outage, logged once by `outage`; anything else (a deadlock, a full pool) each time."""
    lost = connecting or getattr(error, "connection_invalidated", False)
    if lost and outage is not None:
        outage.failed(error)
    else:
        log.warning("Database unavailable: %s", getattr(error, "orig", None) or error)
    return Unavailable("The database is unavailable right now; try again shortly.")


class ReadOnlyCommit(RuntimeError):
    """`commit()` on a read-only unit of work: a programming error, never a user's."""


class SqlAlchemyUnitOfWork(UnitOfWork):
    """Each `with` block checks out a connection and begins a transaction; leaving the block
    rolls back unless `commit()` was called, and returns the connection to the pool. The same
    object can be entered again (a new transaction each time), but not while it is active:
    share the `Database`, not a unit of work, between threads.

    A read-only unit of work (on `Database.read_engine`) begins SQLite's transaction
    DEFERRED, as a reader, and refuses `commit()`: nothing it does may be kept.

    The repositories note the stock they move in `movements`; after a commit the observer,
    if any, is told."""

    def __init__(self, engine: Engine, *, read_only: bool = False,
                 observer: MovementObserver | None = None,
                 outage: OutageLog | None = None, dialect: SqlDialect | None = None) -> None:
        self._engine = engine
        self.dialect = dialect or SqlDialect.of(engine)
        self._outage = outage
        self.read_only = read_only
        self._observer = observer
        self._connection: Connection | None = None
        self.movements = StockMovements()
        self.users = repos.SqlUserRepository(self)
        self.refresh_tokens = repos.SqlRefreshTokenRepository(self)
        self.products = repos.SqlProductRepository(self)
        self.orders = repos.SqlOrderRepository(self)
        self.payment_events = repos.SqlPaymentEventRepository(self)
        self.idempotency_keys = repos.SqlIdempotencyKeyRepository(self)
        self.stock_audit = repos.SqlStockAuditRepository(self)
        self.duty_log = repos.SqlDutyLogRepository(self)
        self.reports = repos.SqlReportRepository(self)
        self.outbox = repos.SqlOutbox(self)
        self.subscriptions = repos.SqlSubscriptionRepository(self)
        self.deliveries = repos.SqlDeliveryRepository(self)

    @property
    def connection(self) -> Connection:
        """The connection of the current transaction; repositories use it for every query."""
        if self._connection is None:
            raise RuntimeError("The unit of work is used outside its `with` block")
        return self._connection

    def __enter__(self) -> SqlAlchemyUnitOfWork:
        if self._connection is not None:
            raise RuntimeError("This unit of work is already in a transaction")
        try:
            connection = self._engine.connect()
        except (OperationalError, PoolTimeout) as error:
            # PoolTimeout: every connection of this process stayed busy for the whole wait.
            raise _unavailable(error, self._outage,
                               connecting=isinstance(error, OperationalError)) from error
        if self.dialect.is_sqlite and not self.read_only:
            # See `Database`: take SQLite's write lock up front, so that writers queue on
            # the busy timeout instead of failing when a reader tries to become a writer.
            connection = connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        try:
            connection.begin()
        except BaseException as error:
            connection.close()
            if isinstance(error, OperationalError):
                raise _unavailable(error, self._outage, connecting=True) from error
            raise
        if self._outage is not None:
            self._outage.answered()
        self._connection = connection
        self.movements = StockMovements()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        failure = exc
        try:
            connection.rollback()  # a no-op after commit()
        except OperationalError as error:
            failure = failure or error
        finally:
            connection.close()
        if isinstance(failure, OperationalError):
            # A lost connection, a deadlock, a lock timeout: the transaction is gone and
            # nothing was written; the caller may try again.
            raise _unavailable(failure, self._outage) from failure

    def commit(self) -> None:
        if self.read_only:
            raise ReadOnlyCommit("A read-only unit of work cannot commit")
        self.connection.commit()
        movements, self.movements = self.movements, StockMovements()
        if self._observer is not None and movements:
            self._observer.committed(movements)

    def rollback(self) -> None:
        self.connection.rollback()
