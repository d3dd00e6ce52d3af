"""The `WebhookSender`: one signed POST per try, with timeouts, to the checked address.

The body is read only up to `RESPONSE_LIMIT` bytes (receivers answer with a status; their
bodies are not the shop's business), redirects are not followed, and the whole try ends by
its deadline however slowly the receiver trickles bytes."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time

from shop_adapters.webhooks.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, signature_header
from shop_adapters.webhooks.targets import Target, TargetPolicy, TargetUnresolved
from shop_core.errors import TargetRefused
from shop_core.events import Event
from shop_core.subscriptions import AttemptResult, Subscription

TIMEOUT_SECONDS = 10.0
RESPONSE_LIMIT = 4096
# Worth trying again: the receiver is overloaded or restarting, or asks for patience.
RETRYABLE_STATUSES = frozenset({408, 425, 429})
USER_AGENT = "shop-webhooks/1"


class HttpWebhookSender:
    def __init__(self, targets: TargetPolicy, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self._targets = targets
        self._timeout = timeout
        self._tls = ssl.create_default_context()

    def send(self, subscription: Subscription, event: Event) -> AttemptResult:
        started = time.monotonic()
        body = json.dumps(event.body(), separators=(",", ":")).encode()
        try:
            target = self._targets.resolve(subscription.url)
        except TargetRefused as refused:
            return AttemptResult(delivered=False, duration_ms=0,
                                 error=f"Refused: {refused.detail}")
        except TargetUnresolved as error:
            return AttemptResult(delivered=False, duration_ms=_ms(started), error=str(error),
                                 retryable=True)
        headers = {
            "Content-Type": "application/json", "User-Agent": USER_AGENT,
            EVENT_ID_HEADER: event.id,
            SIGNATURE_HEADER: signature_header(subscription.secret, int(time.time()), body),
        }
        connection = self._connection(target)
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            response = connection.getresponse()
            _drain(response, started + self._timeout)
            status = response.status
        except (OSError, http.client.HTTPException) as error:
            # Timeouts, refused or reset connections, TLS failures, garbled answers.
            return AttemptResult(delivered=False, duration_ms=_ms(started),
                                 error=_describe(error), retryable=True)
        finally:
            connection.close()
        if 200 <= status < 300:
            return AttemptResult(delivered=True, duration_ms=_ms(started), status_code=status)
        return AttemptResult(delivered=False, duration_ms=_ms(started), status_code=status,
                             error=f"HTTP {status}",
                             retryable=status >= 500 or status in RETRYABLE_STATUSES)

    def _connection(self, target: Target) -> http.client.HTTPConnection:
        if target.scheme == "https":
            return _PinnedHttps(target, self._timeout, self._tls)
        return _PinnedHttp(target, self._timeout)


class _PinnedHttp(http.client.HTTPConnection):
    """Speaks to `target.host` (Host header) at the address that was checked."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHttps(http.client.HTTPSConnection):
    """TLS to the checked address, verifying the certificate for `target.host` (SNI too)."""

    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = target.address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _drain(response: http.client.HTTPResponse, deadline: float) -> None:
    """Read at most RESPONSE_LIMIT bytes of the answer, and stop at the deadline."""
    left = RESPONSE_LIMIT
    while left > 0:
        if time.monotonic() > deadline:
            raise TimeoutError("The receiver's answer took too long.")
        chunk = response.read1(min(left, 1024))
        if not chunk:
            return
        left -= len(chunk)


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError | socket.timeout):
        return "Timed out."
    return f"{type(error).__name__}: {error}"[:500]


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
