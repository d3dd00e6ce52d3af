"""The deliveries' signature: HMAC-SHA256 of "<timestamp>.<raw body>" with the subscription's
secret, sent as `Shop-Signature: t=<unix seconds>,v1=<hex digest>` (the scheme Stripe and
Standard Webhooks use). The timestamp is signed too, so a receiver can refuse old replays."""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Shop-Signature"
EVENT_ID_HEADER = "Shop-Event-Id"
DEFAULT_TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *,
           tolerance: int = DEFAULT_TOLERANCE_SECONDS, now: float | None = None) -> bool:
    """Whether `header` signs `body` with `secret`, at a time within `tolerance` seconds of
    `now`. What a receiver in Python runs (README.md shows the same in a few lines)."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, given) for given in parts.get("v1", []))
