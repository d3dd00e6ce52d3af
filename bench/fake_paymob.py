"""A local stand-in for Paymob's Intention API that answers after a fixed delay.

The shop runs in live mode (`PAYMOB_MODE=live`, `PAYMOB_API_BASE` pointing here), so the
benchmark exercises the real `PaymobGateway` - its HTTP session, timeouts and parsing - with a
provider that is slow in a controlled way. It checks what the real API insists on (integer
cents and integration ids, the secret key) so a broken request fails loudly, not quietly.

Run alone: `python -m bench.fake_paymob --port 8765 --delay 0.2`."""

from __future__ import annotations

import argparse
import itertools
import json
import secrets
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET_KEY = "bench_fake_paymob_secret_key"
_ids = itertools.count(1)
_ids_lock = threading.Lock()


def _next_id() -> int:
    with _ids_lock:
        return next(_ids)


def problems(body: Any) -> list[str]:
    """What Paymob would refuse in an intention request body; empty when it is acceptable."""
    if not isinstance(body, dict):
        return ["body is not a JSON object"]
    found = []
    amount = body.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        found.append("amount must be a positive integer of cents")
    methods = body.get("payment_methods")
    if not methods or not all(isinstance(m, int) and not isinstance(m, bool) for m in methods):
        found.append("payment_methods must be integration ids as integers")
    items = body.get("items") or []
    if sum(int(i.get("amount", 0)) * int(i.get("quantity", 0)) for i in items) != amount:
        found.append("items do not add up to amount")
    if not body.get("special_reference"):
        found.append("special_reference is missing")
    return found


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API
    delay = 0.2

    def setup(self) -> None:
        super().setup()
        # http.server writes the headers and the body separately; without this, Nagle's
        # algorithm holds the body until the client's delayed ACK, adding ~40 ms per call.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:  # noqa: N802 - the http.server naming
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != "/v1/intention":
            return self._answer(404, {"detail": "Not found."})
        if self.headers.get("Authorization") != f"Token {SECRET_KEY}":
            return self._answer(401, {"detail": "Invalid secret key."})
        try:
            body = json.loads(raw)
        except ValueError:
            return self._answer(400, {"detail": "Malformed JSON."})
        found = problems(body)
        if found:
            return self._answer(400, {"detail": "; ".join(found)})
        time.sleep(self.delay)
        number = _next_id()
        self._answer(201, {
            "id": f"pi_test_{secrets.token_hex(16)}",
            "client_secret": f"are_csk_test_{secrets.token_hex(20)}",
            "intention_order_id": 500_000_000 + number,
            "amount": body["amount"],
            "currency": body.get("currency", "EGP"),
            "special_reference": body["special_reference"],
            "status": "intended",
        })

    def _answer(self, status: int, document: dict[str, Any]) -> None:
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return None  # one line per request would cost more than the answer


def make_server(port: int = 0, delay: float = 0.2) -> ThreadingHTTPServer:
    """A server on 127.0.0.1 (`port` 0 picks a free one); call `serve_forever` to run it."""
    handler = type("DelayedHandler", (Handler,), {"delay": delay})
    ThreadingHTTPServer.request_queue_size = 256
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.2)
    args = parser.parse_args()
    server = make_server(args.port, args.delay)
    print(f"fake Paymob on 127.0.0.1:{server.server_address[1]}, delay {args.delay}s",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
