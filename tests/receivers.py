"""Real servers on 127.0.0.1 that play the shop's event receivers: an HTTP endpoint that
records every delivery, and an SMTP server that records every e-mail."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from attrs import frozen

from shop_adapters.webhooks.signing import verify


@frozen
class Received:
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))

    def signed_with(self, secret: str) -> bool:
        return verify(secret, self.headers["Shop-Signature"], self.body)


class Receiver:
    """Answers each POST with the next of `answers` (200 when none are left); a `hang` answer
    holds the request until `release()`. Records everything it got."""

    HANG = -1

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: list[int] = []
        self.delay = 0.0  # seconds each answer takes
        # Set: the first requests wait until that many are in flight at once (senders that
        # are surely running side by side).
        self.meet: threading.Barrier | None = None
        self._arrived = 0
        self._lock = threading.Lock()
        self._released = threading.Event()
        self.hanging = threading.Event()
        self.first_arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802  (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    status = receiver.answers.pop(0) if receiver.answers else 200
                    receiver._arrived += 1
                    receiver.first_arrived.set()
                    meeting = receiver.meet is not None and \
                        receiver._arrived <= receiver.meet.parties
                if meeting:
                    assert receiver.meet is not None
                    receiver.meet.wait(60)
                if status == Receiver.HANG:
                    receiver.hanging.set()
                    receiver._released.wait(30)
                    return
                time.sleep(receiver.delay)
                with receiver._lock:
                    receiver.received.append(Received(dict(self.headers.items()), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    def release(self) -> None:
        self._released.set()

    def delivered(self) -> list[Received]:
        """What was answered with a 2xx."""
        with self._lock:
            return [r for r in self.received if 200 <= r.status < 300]

    def types(self) -> list[str]:
        return [r.event["type"] for r in self.delivered()]

    @contextmanager
    def running(self) -> Iterator[Receiver]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.release()
            self._server.shutdown()
            self._server.server_close()


class Mailbox:
    """aiosmtpd's handler: every message the SMTP server accepted."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[tuple[str, Mailbox]]:
    """A real SMTP server on 127.0.0.1; yields its SMTP_URL and its mailbox."""
    from aiosmtpd.controller import Controller

    from tests.ports import free_port

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{controller.port}", mailbox
    finally:
        controller.stop()
