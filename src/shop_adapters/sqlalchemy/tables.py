"""The schema, as explicit tables. Repositories translate rows to the core's attrs objects;
the core never sees these. The migrations in `migrations/versions` must create exactly this
(a test compares them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on every dialect.

    PostgreSQL stores `timestamptz` and, its sessions being in UTC, returns values ready to
    use. SQLite has no time zones, so the value is stored as naive UTC text (which also keeps
    its text ordering chronological) and made aware again on the way out. Naive datetimes
    are refused rather than guessed at."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"Naive datetime {value!r}: the shop stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        # The shop's PostgreSQL sessions run in UTC (see `database.py`), so psycopg already
        # returns aware UTC datetimes: converting each again was 5% of a catalogue page.
        if dialect.name == "postgresql":
            return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Deterministic constraint names on both dialects, so migrations can name what they alter.
metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

# Money is always an integer of minor units next to its ISO currency code.
Currency = sa.String(3)

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(150), nullable=False),
    # Stored lower-cased (the core normalizes, the repository makes sure), so a plain unique
    # constraint is a case-insensitive one.
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("first_name", sa.String(150), nullable=False),
    sa.Column("last_name", sa.String(150), nullable=False),
    sa.Column("is_staff", sa.Boolean, nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("date_joined", UTCDateTime, nullable=False),
    sa.Column("phone_number", sa.String(16), nullable=True),
    sa.UniqueConstraint("username"),
    sa.UniqueConstraint("email"),
)

refresh_tokens = sa.Table(
    "refresh_tokens", metadata,
    sa.Column("jti", sa.String(128), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("family_id", sa.String(128), nullable=False, index=True),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)

products = sa.Table(
    "products", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("price", sa.BigInteger, nullable=False),
    sa.Column("currency", Currency, nullable=False),
    sa.Column("stock", sa.Integer, nullable=False),
    sa.Column("is_deleted", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False, index=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # The last line of defence against overselling, whatever code runs against the table.
    sa.CheckConstraint("stock >= 0", name="stock_not_negative"),
    # Last, so that rows unpack by position with the columns above unchanged.
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
)

ORDER_STATUSES = ("pending", "success", "failed", "timeout", "cancelled", "authorized",
                  "refunded", "voided")

orders = sa.Table(
    "orders", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("currency", Currency, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("needs_refund", sa.Boolean, nullable=False),
    sa.Column("intention_id", sa.String(255), nullable=True),
    sa.Column("client_secret", sa.String(255), nullable=True),
    sa.Column("checkout_url", sa.Text, nullable=True),
    sa.Column("special_reference", sa.String(255), nullable=True),
    sa.Column("provider_order_id", sa.String(64), nullable=True, index=True),
    # The method the customer chose (card, kiosk, …); null: the default-window methods.
    sa.Column("payment_method", sa.String(32), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # The sums of the order's ledger (payment_events), in minor units of `currency`:
    # written in the same transaction as every entry they count.
    # (Zero by default also for writers outside the repositories: bulk loads, benchmarks.)
    sa.Column("paid_amount", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("refunded_amount", sa.BigInteger, nullable=False, server_default="0"),
    # Refunds, voids and captures asked of the provider and not settled yet.
    sa.Column("held_amount", sa.BigInteger, nullable=False, server_default="0"),
    # A payment under way (a kiosk bill issued...) and the reference the customer pays with.
    sa.Column("payment_state", sa.String(32), nullable=True),
    sa.Column("payment_reference", sa.String(64), nullable=True),
    # When reconciliation last asked the provider about the payment.
    sa.Column("payment_checked_at", UTCDateTime, nullable=True),
    sa.CheckConstraint(
        "status IN (" + ", ".join(f"'{status}'" for status in ORDER_STATUSES) + ")",
        name="status_known",
    ),
    sa.CheckConstraint("held_amount >= 0 AND refunded_amount >= 0 AND paid_amount >= 0",
                       name="amounts_not_negative"),
    # The expiry sweep: pending orders whose deadline has passed, earliest first. (No index
    # on created_at alone: every expiry writes an entry in each index, and the staff's
    # all-orders listing is rare enough to sort.)
    sa.Index("ix_orders_status_expires_at", "status", "expires_at"),
    # A customer's orders, newest first.
    sa.Index("ix_orders_user_id_created_at", "user_id", "created_at"),
    # Reconciliation's few orders holding money whose refund, void or capture is unsettled.
    sa.Index("ix_orders_held_amount", "held_amount",
             postgresql_where=sa.text("held_amount > 0"),
             sqlite_where=sa.text("held_amount > 0")),
)

order_lines = sa.Table(
    "order_lines", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("product_id", sa.Integer, sa.ForeignKey("products.id"), nullable=False),
    # Captured at order time: later edits to the product do not change what was bought.
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("unit_price", sa.BigInteger, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
)

# The ledger: every transaction at the provider, and every one the shop reserved before
# asking the provider for it (a refund, void or capture, whose id the answer or the callback
# fills in).
payment_events = sa.Table(
    "payment_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # The provider's transaction id: a callback is recorded once, however often it arrives,
    # and a refund's answer and its callback count once. NULL until the provider names it.
    sa.Column("transaction_id", sa.String(64), nullable=True),
    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=True, index=True),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", Currency, nullable=False),
    sa.Column("success", sa.Boolean, nullable=False),
    sa.Column("pending", sa.Boolean, nullable=False),
    sa.Column("is_reversal", sa.Boolean, nullable=False),
    # What the callback did; NULL for a movement the shop started and no callback settled.
    sa.Column("outcome", sa.String(32), nullable=True),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("movement", sa.String(16), nullable=False),
    sa.Column("result", sa.String(16), nullable=False),
    # The staff member who asked for it; NULL: the customer or the provider's dashboard.
    sa.Column("started_by", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("parent_transaction_id", sa.String(64), nullable=True),
    sa.Column("restock", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("transaction_id"),
)

idempotency_keys = sa.Table(
    "idempotency_keys", metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("fingerprint", sa.String(128), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False, index=True),
    # The answer the first request got, replayed to repeats; NULL while it runs.
    sa.Column("status", sa.Integer, nullable=True),
    sa.Column("body", sa.Text, nullable=True),
)

STOCK_CHANGE_KINDS = ("created", "adjusted", "set")

# Every change staff make to a product's stock, written in the transaction that makes it.
stock_audit = sa.Table(
    "stock_audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("product_id", sa.Integer, sa.ForeignKey("products.id"), nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("before", sa.Integer, nullable=False),
    sa.Column("after", sa.Integer, nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("changed_at", UTCDateTime, nullable=False),
    # The form that made the change: a second submission of it is recognised, not repeated.
    sa.Column("request_key", sa.String(64), nullable=True),
    sa.UniqueConstraint("request_key"),
    sa.CheckConstraint(
        "kind IN (" + ", ".join(f"'{kind}'" for kind in STOCK_CHANGE_KINDS) + ")",
        name="kind_known",
    ),
    # A product's trail, newest first.
    sa.Index("ix_stock_audit_product_id_id", "product_id", "id"),
)

# The last pass of each periodic duty (the expiry sweep), for the back-office's health.
duty_runs = sa.Table(
    "duty_runs", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("finished_at", UTCDateTime, nullable=False),
    sa.Column("done", sa.Integer, nullable=False),
)

# The transactional outbox: each event written in the transaction of the change it describes.
# `sequence` orders them (an order's changes commit one after another, its row being locked).
outbox_events = sa.Table(
    "outbox_events", metadata,
    sa.Column("sequence", sa.Integer, primary_key=True),
    sa.Column("id", sa.String(36), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    # No foreign key: writing an event must not take another lock, and events are a record.
    sa.Column("order_id", sa.Integer, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    # When its deliveries were written (NULL: still to hand out).
    sa.Column("handed_out_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("id"),
    sa.Index("ix_outbox_events_handed_out_at_sequence", "handed_out_at", "sequence"),
)

webhook_subscriptions = sa.Table(
    "webhook_subscriptions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("events", sa.Text, nullable=False),  # event type names, space-separated
    sa.Column("description", sa.String(500), nullable=False),
    # Kept as it is: the shop signs with it. Never logged, shown to staff once.
    sa.Column("secret", sa.String(128), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("disabled_at", UTCDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
)

DELIVERY_STATUSES = ("pending", "in_flight", "delivered", "failed")

webhook_deliveries = sa.Table(
    "webhook_deliveries", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event_sequence", sa.Integer, sa.ForeignKey("outbox_events.sequence"),
              nullable=False),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    # "webhook:<id>" or "handler:<name>"; with order_id, what event order is kept within.
    sa.Column("subscriber", sa.String(140), nullable=False),
    sa.Column("subscription_id", sa.Integer,
              sa.ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), nullable=True),
    sa.Column("order_id", sa.Integer, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("due_since", UTCDateTime, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("lease_until", UTCDateTime, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_status_code", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("delivered_at", UTCDateTime, nullable=True),
    sa.CheckConstraint(
        "status IN (" + ", ".join(f"'{status}'" for status in DELIVERY_STATUSES) + ")",
        name="status_known",
    ),
    # What is due; and, per subscriber and order, whether an earlier event is unsettled.
    sa.Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    sa.Index("ix_webhook_deliveries_subscriber_order_id_event_sequence",
             "subscriber", "order_id", "event_sequence"),
    # A subscription's deliveries, newest first.
    sa.Index("ix_webhook_deliveries_subscription_id_id", "subscription_id", "id"),
)

webhook_attempts = sa.Table(
    "webhook_attempts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("delivery_id", sa.Integer,
              sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("attempted_at", UTCDateTime, nullable=False),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
)
