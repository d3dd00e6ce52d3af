"""Starting and stopping what the benchmark loads: gunicorn (the shop or the floor app) and
the fake Paymob server. Each runs in its own session so that stopping it never touches a
process the benchmark did not start."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import requests

# The production-like worker settings, the same for the shop and the floor app: threaded
# workers (one per core) so that requests waiting on the database or on Paymob do not
# occupy a whole process, and concurrency 32 fits in 2 processes x 16 threads. No access
# log for either: it would measure the log pipe, not the app.
CORES = os.cpu_count() or 2
GUNICORN_SETTINGS = ["--worker-class", "gthread", "--workers", str(CORES),
                     "--threads", "16", "--timeout", "30", "--keep-alive", "5",
                     "--backlog", "2048", "--graceful-timeout", "10",
                     # Several gunicorns run at once (here and in tests): no shared socket.
                     "--no-control-socket",
                     # A socket per worker, as `shop serve`: the kernel spreads the load
                     # tool's keep-alive connections over the workers (see
                     # shop_web/gunicorn_conf.py).
                     "--reuse-port",
                     # Workers are never replaced during a run: the figures and the memory
                     # after the load are a steady worker's.
                     "--max-requests", "0"]
# The shop runs with its own configuration (its metrics hooks, above all) under the flags
# above, which take precedence over it; the floor app has none.
SHOP_CONFIG = ["--config", "python:shop_web.gunicorn_conf"]

GUNICORN_ENVIRONMENT = {"MALLOC_ARENA_MAX": "2"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Process:
    """A child process the benchmark started, stopped by its own id."""

    def __init__(self, name: str, command: list[str], env: Mapping[str, str],
                 cwd: str, log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(command, env=dict(env), cwd=cwd, stdout=self._log,
                                      stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = 15) -> None:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                # Our own session only: the master and the workers it forked.
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        self._log.close()


def start_gunicorn(name: str, app: str, env: Mapping[str, str], cwd: str, log_dir: Path,
                   ready_path: str = "/healthz",
                   config: Sequence[str] = ()) -> tuple[Process, str]:
    """Serve `app` (a WSGI factory spec) on a free loopback port; returns it and its base
    URL once `ready_path` answers 200."""
    return start_gunicorn_on(name, app, env, cwd, log_dir, free_port(), ready_path, config)


def start_gunicorn_on(name: str, app: str, env: Mapping[str, str], cwd: str, log_dir: Path,
                      port: int, ready_path: str = "/healthz",
                      config: Sequence[str] = ()) -> tuple[Process, str]:
    command = [sys.executable, "-m", "gunicorn", *config, "--bind", f"127.0.0.1:{port}",
               *GUNICORN_SETTINGS, app]
    # As `shop serve` runs it: two malloc arenas per worker process (see shop_web/cli.py).
    env = {**GUNICORN_ENVIRONMENT, **env}
    process = Process(name, command, env, cwd, log_dir / f"{name}.log")
    base = f"http://127.0.0.1:{port}"
    wait_until_ready(process, base + ready_path)
    return process, base


def start_fake_paymob(delay: float, cwd: str, log_dir: Path) -> tuple[Process, str]:
    port = free_port()
    process = Process("fake-paymob", [sys.executable, "-m", "bench.fake_paymob",
                                      "--port", str(port), "--delay", str(delay)],
                      os.environ, cwd, log_dir / "fake-paymob.log")
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"fake Paymob exited: {process.log_tail()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, base
        except OSError:
            time.sleep(0.1)
    process.stop()
    raise RuntimeError("fake Paymob did not start listening within 15 s")


def wait_until_ready(process: Process, url: str, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"{process.name} exited during start-up:\n{process.log_tail()}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    process.stop()
    raise RuntimeError(f"{process.name} was not ready within {timeout:.0f} s:\n"
                       f"{process.log_tail()}")


def children(pid: int) -> list[int]:
    """Direct children of `pid` (gunicorn's workers, for its master)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return sorted(set(found))


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of `pid` in KiB: resident now, and the peak."""
    values = {"VmRSS": 0, "VmHWM": 0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in values:
                values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values["VmRSS"], values["VmHWM"]


def private_and_pss_kib(pid: int) -> tuple[int, int]:
    """(private, proportional) resident KiB of `pid`: what it alone holds, and its share of
    pages it shares (libraries, pages inherited from gunicorn's master)."""
    values = {"Private_Clean": 0, "Private_Dirty": 0, "Pss": 0}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in values:
                values[key] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return values["Private_Clean"] + values["Private_Dirty"], values["Pss"]


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds used so far by each of `pids` (threads included)."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    return found


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two `cpu_seconds` readings by processes alive at the second
    (one that started in between counts from zero; one that exited is not counted)."""
    return sum(spent - before.get(pid, 0.0) for pid, spent in after.items())


def postgres_pids() -> list[int]:
    """Every PostgreSQL server process on this machine (to show where the CPU went)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found
