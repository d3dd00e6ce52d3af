"""What the shop's probes check: the dependencies each kind of process needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shop_web.bootstrap import Shop


def unreachable(shop: Shop) -> dict[str, bool]:
    """Per dependency of this shop (the database; Redis when configured): unreachable now?"""
    found = {"database": not answers(shop.database.ping)}
    if shop.redis is not None:
        found["redis"] = not answers(shop.redis.ping)
    return found


def background_health(shop: Shop) -> dict[str, str | None]:
    """Per check of the background processes, what is wrong (None: nothing). Without Redis
    there are none to check: the web process sweeps."""
    down = unreachable(shop)
    problems: dict[str, str | None] = {
        name: "unreachable" if is_down else None for name, is_down in down.items()}
    if shop.redis is not None and not down["redis"]:
        # Imported here: the web process's probes need nothing of RQ.
        from shop_adapters.jobs.worker import scheduling_lock_key

        held = shop.redis.exists(scheduling_lock_key(shop.queue_name))
        problems["scheduling"] = None if held else (
            "no process holds the scheduling duty of the queue: is `shop worker` running?")
    return problems


def answers(ping: Callable[[], Any]) -> bool:
    """Whether `ping` (a client's ping) returned without failing."""
    try:
        return ping() is not False
    except Exception:  # noqa: BLE001 - any failure means: not reachable
        return False
