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

__all__ = [
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
