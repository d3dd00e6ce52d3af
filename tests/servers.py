"""A PostgreSQL and a Redis of a test's own, on free ports, that the test may stop, kill and
start again: the services the rest of the suite shares must never be touched that way."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from tests.conftest import unavailable
from tests.ports import free_port

_POSTGRES_USER = "postgres"  # initdb and the server refuse to run as root


class OwnPostgres:
    """A throw-away cluster. fsync is off (the machine does not crash under it), but commits
    stay synchronous: an immediate stop must not lose what the shop was told was committed."""

    def __init__(self) -> None:
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not binaries:
            unavailable("PostgreSQL's server binaries (pg_ctl, initdb) are not installed")
        self._bin = Path(binaries[-1]).parent
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="shop-pg-"))
        self.url = f"postgresql+psycopg://{_POSTGRES_USER}@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        shutil.chown(self.dir, _POSTGRES_USER)
        self._run("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", _POSTGRES_USER,
                  "--no-sync")
        self.start()

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir}"
                   " -c fsync=off")
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"),
                  "-o", options, "-w", "start")

    def stop(self, mode: str = "immediate") -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self._bin / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", _POSTGRES_USER, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)


class OwnRedis:
    """A Redis that keeps nothing on disk, so each start is empty, as such a Redis comes back
    after a restart."""

    def __init__(self) -> None:
        if shutil.which("redis-server") is None:
            unavailable("redis-server is not installed")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        give_up = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > give_up:
                    raise
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None
