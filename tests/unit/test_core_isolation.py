from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("flask", "sqlalchemy", "requests", "redis", "rq", "werkzeug", "psycopg")

_PROBE = """
import importlib, pkgutil, sys
import shop_core
names = [m.name for m in pkgutil.walk_packages(shop_core.__path__, "shop_core.")]
for name in names:
    importlib.import_module(name)
print(len(names))
forbidden = {forbidden!r}
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in forbidden)))
"""


def test_importing_every_core_module_loads_no_web_database_or_queue_library() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.format(forbidden=FORBIDDEN)],
        capture_output=True, text=True, check=True, timeout=60,
    )
    count, loaded = (result.stdout.split("\n") + [""])[:2]
    assert int(count) >= 15  # every module was found and imported, not a silent no-op
    assert loaded == ""
