"""Loopback ports for tests that start a server or need a refused connection, and the wait
for a server started on one."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests


def free_port() -> int:
    """A local TCP port nothing listens on: free for a server to bind, and a connection to it
    is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_healthy(base: str, server: subprocess.Popen[bytes], log: Path, *,
                       timeout: float = 60) -> None:
    """Until the shop started as `server` answers `/healthz` at `base`; fails the test with
    the server's `log` if it exits or does not answer in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"{server.args!r} exited:\n{log.read_text()}")
        try:
            if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"{server.args!r} did not become healthy:\n{log.read_text()}")
