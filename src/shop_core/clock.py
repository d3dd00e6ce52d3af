"""The real clock. Tests inject their own (see `shop_core.testing.FakeClock`)."""

from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
