"""Loopback ports for tests that start a server or need a refused connection."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A local TCP port nothing listens on: free for a server to bind, and a connection to it
    is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
