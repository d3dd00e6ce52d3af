"""What gunicorn needs from the shop beyond its command line: `shop serve` (and `make bench`)
pass `--config python:shop_web.gunicorn_config`."""

from __future__ import annotations

import sys
from typing import Any

# How long a thread may keep the GIL while another waits for it (Python's default: 5 ms).
# A request that has just locked a popular product's row (the stock reservation) must get
# the GIL back to send its COMMIT, and until then every other order for that product waits
# on the row. With 16 threads busy in a worker, that wait was the default 5 ms, which capped
# one product at about 170 orders/s whatever the hardware (measured: 172 -> 270-400 orders/s
# at 8 clients). 1 ms bounds it; switching more often costs little next to that.
SWITCH_INTERVAL_SECONDS = 0.001


def post_worker_init(worker: Any) -> None:
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
