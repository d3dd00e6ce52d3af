"""The core's repository ports over SQLAlchemy Core statements, one module per aggregate,
translating rows to and from the core's attrs objects. Every method runs inside the unit of
work's transaction."""

from shop_adapters.sqlalchemy.repositories.accounts import (
    SqlRefreshTokenRepository,
    SqlUserRepository,
)
from shop_adapters.sqlalchemy.repositories.catalogue import SqlProductRepository
from shop_adapters.sqlalchemy.repositories.events import (
    SqlDeliveryRepository,
    SqlOutbox,
    SqlSubscriptionRepository,
)
from shop_adapters.sqlalchemy.repositories.orders import SqlOrderRepository
from shop_adapters.sqlalchemy.repositories.payments import (
    SqlIdempotencyKeyRepository,
    SqlPaymentEventRepository,
)
from shop_adapters.sqlalchemy.repositories.reports import (
    SqlDutyLogRepository,
    SqlReportRepository,
)
from shop_adapters.sqlalchemy.repositories.stock_audit import SqlStockAuditRepository

__all__ = [
    "SqlDutyLogRepository",
    "SqlReportRepository",
    "SqlStockAuditRepository",
    "SqlDeliveryRepository",
    "SqlOutbox",
    "SqlSubscriptionRepository",
    "SqlIdempotencyKeyRepository",
    "SqlOrderRepository",
    "SqlPaymentEventRepository",
    "SqlProductRepository",
    "SqlRefreshTokenRepository",
    "SqlUserRepository",
]
