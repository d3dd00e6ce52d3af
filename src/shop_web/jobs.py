"""RQ job functions, and the duties of the shop's background processes.

Each job is module-level, takes ids only, and is safe to run any number of times, alone or
alongside callbacks, sweeps and other workers. Jobs build the shop once per process from the
environment, or use the one the process's entry point hands them (`duties`)."""

from __future__ import annotations

import logging
import threading

from shop_adapters.jobs.worker import Duties
from shop_web.bootstrap import Shop, build_shop
from shop_web.config import ConfigurationError, Settings

log = logging.getLogger(__name__)

_shop: Shop | None = None
_shop_lock = threading.Lock()


def current_shop() -> Shop:
    """The shop jobs in this process use, built from the environment on first use."""
    global _shop
    with _shop_lock:
        if _shop is None:
            _shop = build_shop(Settings.from_env())
        return _shop


def use_shop(shop: Shop | None) -> None:
    """Make this process's jobs use `shop` (None: build one from the environment again)."""
    global _shop
    with _shop_lock:
        _shop = shop


def duties(shop: Shop, queue_name: str | None = None) -> Duties:
    """What a `shop worker` or `shop scheduler` of `shop` does, on its queue (or
    `queue_name`); the jobs it runs use `shop`."""
    if not shop.settings.redis_url:
        raise ConfigurationError("Background workers need REDIS_URL.")
    use_shop(shop)
    return Duties(redis_url=shop.settings.redis_url, queue_name=queue_name or shop.queue_name,
                  periodic=shop.duties)


def expire_order(order_id: int) -> bool:
    """Time out the order if it is still pending past its deadline; True if this run did."""
    expired = current_shop().expire_order(order_id)
    if expired:
        log.info("Order %s timed out", order_id)
    return expired
