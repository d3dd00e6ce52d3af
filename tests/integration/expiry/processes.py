"""Worker and scheduler processes started the way `shop worker` / `shop scheduler` start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

_MAIN = """
import sys
from shop_core.testing import FakePaymentGateway
from shop_web.bootstrap import build_shop
from shop_web.config import Settings
from shop_adapters.jobs import worker
from shop_web import jobs

shop = build_shop(Settings.from_env(), gateway=FakePaymentGateway())
getattr(worker, sys.argv[1])(jobs.duties(shop, queue_name=sys.argv[2]))
"""


def start(entry_point: str, queue_name: str, *, database_url: str,
          redis_url: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Run `shop_adapters.jobs.worker.<entry_point>` for a shop on `queue_name` in a new
    process, as `shop worker` / `shop scheduler` do."""
    env = {**os.environ, "SHOP_ENV": "test", "DATABASE_URL": database_url,
           "REDIS_URL": redis_url, **(extra_env or {})}
    return subprocess.Popen([sys.executable, "-c", _MAIN, entry_point, queue_name], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> str:
    """Ask for a warm shutdown (SIGTERM, as a process manager would); return the output."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output.decode(errors="replace")
