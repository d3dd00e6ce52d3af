"""Settings from the environment, validated once at start-up."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from attrs import evolve, field, frozen

from shop_adapters.paymob.regions import Account, KeyMode, MismatchedKeys, account_of, key_prefix
from shop_adapters.paymob.settings import Integration
from shop_core.payment_methods import PaymentMethod, PaymentMethods

ENVIRONMENTS = ("development", "test", "production")
LOG_FORMATS = ("text", "json")
DEVELOPMENT_JWT_SECRET = "development-only-secret-change-me-0123456789abcdef"
# A payment window's bounds. Paymob's docs state no upper limit for an intention's
# `expiration`; a week covers kiosk bills and instalment approvals without holding stock
# for longer than anyone waits on a payment.
MIN_PAYMENT_WINDOW = timedelta(minutes=1)
MAX_PAYMENT_WINDOW = timedelta(days=7)
SANDBOX_INTEGRATION = Integration(1)


class ConfigurationError(Exception):
    """The environment does not describe a shop that may start."""


def _secret_repr(value: str) -> str:
    return "'***'" if value else "''"


@frozen
class Settings:
    """Everything the shop reads from its environment. Secrets never appear in `repr`."""

    shop_env: str = "development"
    instance_path: str = "instance"
    database_url: str = ""
    redis_url: str | None = None
    jwt_secret_key: str = field(default=DEVELOPMENT_JWT_SECRET, repr=_secret_repr)
    access_token_lifetime: timedelta = timedelta(minutes=15)
    refresh_token_lifetime: timedelta = timedelta(days=7)
    staff_session_lifetime: timedelta = timedelta(hours=8)
    public_base_url: str = "http://127.0.0.1:8000"
    port: int = 8000
    paymob_mode: str = "sandbox"
    # Empty: the host of the market the keys belong to (`paymob_base_url`).
    paymob_api_base: str = ""
    paymob_secret_key: str = field(default="", repr=_secret_repr)
    paymob_public_key: str = ""
    paymob_hmac_secret: str = field(default="", repr=_secret_repr)
    paymob_api_key: str = field(default="", repr=_secret_repr)
    paymob_integration_ids: tuple[int, ...] = ()
    # Each integration's payment method and window (PAYMOB_INTEGRATIONS; the ids of
    # PAYMOB_INTEGRATION_IDS are card integrations with the default window).
    paymob_integrations: tuple[Integration, ...] = ()
    paymob_currency: str = "EGP"
    paymob_reference_prefix: str = "shop"
    order_payment_timeout: timedelta = timedelta(seconds=600)
    rate_limit_auth: str = "30/minute"
    expiry_sweep_interval: float = 2.0
    reconcile_interval: float = 5.0
    reconcile_grace: timedelta = timedelta(seconds=60)
    password_hash_profile: str = "strong"
    trusted_proxies: int = 0
    metrics_token: str = field(default="", repr=_secret_repr)
    log_format: str = "text"
    cors_origins: tuple[str, ...] = ()
    smtp_url: str = field(default="", repr=_secret_repr)
    mail_from: str = "shop@localhost"
    event_delivery_interval: float = 1.0
    event_delivery_lease: timedelta = timedelta(minutes=5)

    @property
    def is_production(self) -> bool:
        return self.shop_env == "production"

    @property
    def paymob_account(self) -> Account:
        """The Paymob account the keys belong to (validated: the two keys agree)."""
        return account_of(self.paymob_secret_key, self.paymob_public_key)

    @property
    def paymob_base_url(self) -> str:
        """Where the shop talks to Paymob: `PAYMOB_API_BASE`, else the keys' market's host."""
        return (self.paymob_api_base or self.paymob_account.region.api_base).rstrip("/")

    @property
    def payment_methods(self) -> PaymentMethods:
        """The methods the shop takes, each with its window (validated: one per method)."""
        return PaymentMethods(tuple(PaymentMethod(name, window) for name, window in
                                    self._windows(self.paymob_integrations).items()),
                              self.order_payment_timeout)

    def _windows(self, integrations: tuple[Integration, ...]) -> dict[str, timedelta]:
        """Each method's payment window: its integrations' own, else the default one."""
        windows: dict[str, timedelta] = {}
        for integration in integrations:
            window = integration.window or self.order_payment_timeout
            if windows.setdefault(integration.method, window) != window:
                raise ConfigurationError(
                    f"PAYMOB_INTEGRATIONS gives {integration.method} two payment windows; "
                    f"a method has one.")
        return windows

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(self.instance_path).resolve() / 'shop.db'}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the variables the contract documents; unset ones keep their defaults."""
        env = os.environ if environ is None else environ
        port = _int(env, "PORT", 8000)
        has_keys = bool(env.get("PAYMOB_SECRET_KEY"))
        values: dict[str, Any] = {
            "shop_env": env.get("SHOP_ENV", "development"),
            "instance_path": env.get("SHOP_INSTANCE_PATH", "instance"),
            "database_url": env.get("DATABASE_URL", ""),
            "redis_url": env.get("REDIS_URL") or None,
            "jwt_secret_key": env.get("JWT_SECRET_KEY", DEVELOPMENT_JWT_SECRET),
            "access_token_lifetime": timedelta(
                seconds=_int(env, "JWT_ACCESS_TOKEN_SECONDS", 15 * 60)),
            "refresh_token_lifetime": timedelta(
                seconds=_int(env, "JWT_REFRESH_TOKEN_SECONDS", 7 * 24 * 3600)),
            "staff_session_lifetime": timedelta(
                seconds=_int(env, "STAFF_SESSION_SECONDS", 8 * 3600)),
            "public_base_url": env.get("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}"),
            "port": port,
            "paymob_mode": env.get("PAYMOB_MODE", "live" if has_keys else "sandbox"),
            "paymob_api_base": env.get("PAYMOB_API_BASE", ""),
            "paymob_secret_key": env.get("PAYMOB_SECRET_KEY", ""),
            "paymob_public_key": env.get("PAYMOB_PUBLIC_KEY", ""),
            "paymob_hmac_secret": env.get("PAYMOB_HMAC_SECRET", ""),
            "paymob_api_key": env.get("PAYMOB_API_KEY", ""),
            "paymob_integrations": _integrations(env),
            "paymob_currency": env.get("PAYMOB_CURRENCY", "EGP"),
            "paymob_reference_prefix": env.get("PAYMOB_REFERENCE_PREFIX", "shop"),
            "order_payment_timeout": timedelta(
                seconds=_int(env, "ORDER_PAYMENT_TIMEOUT_SECONDS", 600)),
            "rate_limit_auth": env.get("RATE_LIMIT_AUTH", "30/minute"),
            "expiry_sweep_interval": float(env.get("EXPIRY_SWEEP_INTERVAL_SECONDS", "2")),
            "reconcile_interval": float(env.get("RECONCILE_INTERVAL_SECONDS", "5")),
            "reconcile_grace": timedelta(seconds=_int(env, "RECONCILE_GRACE_SECONDS", 60,
                                                      minimum=0)),
            "password_hash_profile": env.get("PASSWORD_HASH_PROFILE", "strong"),
            "trusted_proxies": _int(env, "TRUSTED_PROXIES", 0, minimum=0),
            "metrics_token": env.get("METRICS_TOKEN", ""),
            "log_format": env.get("LOG_FORMAT", "text"),
            "cors_origins": tuple(origin.strip().rstrip("/") for origin in
                                  env.get("CORS_ORIGINS", "").split(",") if origin.strip()),
            "smtp_url": env.get("SMTP_URL", ""),
            "mail_from": env.get("MAIL_FROM", "shop@localhost"),
            "event_delivery_interval": float(
                env.get("EVENT_DELIVERY_INTERVAL_SECONDS", "1")),
            # How long a sender may take over a batch before others send it again.
            "event_delivery_lease": timedelta(
                seconds=_int(env, "EVENT_DELIVERY_LEASE_SECONDS", 300)),
        }
        return cls(**values).validated()

    def replace(self, **changes: Any) -> Settings:
        return evolve(self, **changes).validated()

    def validated(self) -> Settings:
        """Refuse settings no shop should start with; fill sandbox defaults."""
        if self.shop_env not in ENVIRONMENTS:
            raise ConfigurationError(f"SHOP_ENV must be one of {', '.join(ENVIRONMENTS)}.")
        if self.paymob_mode not in ("sandbox", "live"):
            raise ConfigurationError("PAYMOB_MODE must be 'sandbox' or 'live'.")
        if self.password_hash_profile not in ("strong", "cheap"):
            raise ConfigurationError("PASSWORD_HASH_PROFILE must be 'strong' or 'cheap'.")
        if self.log_format not in LOG_FORMATS:
            raise ConfigurationError("LOG_FORMAT must be 'text' or 'json'.")
        if "*" in self.cors_origins:
            # Tokens travel in a header a browser sends only to origins it was told may read
            # the answer; a wildcard would let any site script a signed-in customer's API.
            raise ConfigurationError("CORS_ORIGINS lists origins; '*' is never allowed.")
        if self.password_hash_profile == "cheap" and self.is_production:
            raise ConfigurationError("Production never hashes passwords with the cheap profile.")
        if self.smtp_url and not self.smtp_url.startswith(("smtp://", "smtps://")):
            raise ConfigurationError("SMTP_URL must start with smtp:// or smtps://.")
        try:
            account = self.paymob_account
        except MismatchedKeys as mismatch:
            raise ConfigurationError(str(mismatch)) from None
        if self.is_production:
            self._check_production(account)
        settings = self._with_integrations()
        if settings.paymob_mode == "live":
            missing = [name for name, value in (
                ("PAYMOB_SECRET_KEY", settings.paymob_secret_key),
                ("PAYMOB_PUBLIC_KEY", settings.paymob_public_key),
                ("PAYMOB_HMAC_SECRET", settings.paymob_hmac_secret),
                ("PAYMOB_INTEGRATIONS (or PAYMOB_INTEGRATION_IDS)",
                 settings.paymob_integrations),
            ) if not value]
            if missing:
                raise ConfigurationError(f"Live payments need {', '.join(missing)}.")
            return settings
        # The sandbox signs its own callbacks; a fixed development secret is harmless there.
        integrations = settings.paymob_integrations or (SANDBOX_INTEGRATION,)
        return evolve(
            settings,
            paymob_public_key=settings.paymob_public_key or "sandbox_public_key",
            paymob_hmac_secret=settings.paymob_hmac_secret or "sandbox-hmac-secret",
            paymob_integrations=integrations,
            paymob_integration_ids=tuple(integration.id for integration in integrations),
        )

    def _with_integrations(self) -> Settings:
        """Integrations from either variable, their ids alongside; each method one window."""
        integrations = self.paymob_integrations or tuple(
            Integration(integration_id) for integration_id in self.paymob_integration_ids)
        for integration in integrations:
            # Bounds on the windows given here; the default one is ORDER_PAYMENT_TIMEOUT's.
            window = integration.window
            if window is not None and not MIN_PAYMENT_WINDOW <= window <= MAX_PAYMENT_WINDOW:
                raise ConfigurationError(f"The payment window of {integration.method} must "
                                         f"be between 1 minute and 7 days.")
        self._windows(integrations)
        return evolve(self, paymob_integrations=integrations,
                      paymob_integration_ids=tuple(i.id for i in integrations))

    def _check_production(self, account: Account) -> None:
        if self.jwt_secret_key in ("", DEVELOPMENT_JWT_SECRET) or len(self.jwt_secret_key) < 32:
            raise ConfigurationError(
                "Production needs JWT_SECRET_KEY: a random secret of at least 32 characters.")
        if self.paymob_mode == "sandbox":
            raise ConfigurationError("Production never runs with sandbox payments.")
        if account.mode is KeyMode.TEST:
            # A test key takes no real money: every order would be "paid" for nothing.
            raise ConfigurationError(
                f"Production refuses Paymob test keys (PAYMOB_SECRET_KEY starts "
                f"{key_prefix(self.paymob_secret_key)}): use the keys of the dashboard's "
                f"live mode.")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}.")
    return value


def _ids(raw: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise ConfigurationError(
            "PAYMOB_INTEGRATION_IDS must be comma-separated integers.") from None


_DURATION = re.compile(r"^(?P<count>[1-9][0-9]{0,6})(?P<unit>[smhd])$", re.ASCII)
_UNITS = {"s": timedelta(seconds=1), "m": timedelta(minutes=1), "h": timedelta(hours=1),
          "d": timedelta(days=1)}


def parse_duration(text: str) -> timedelta:
    """`10m`, `48h`, `2d`, `90s` as a timedelta; `ValueError` for anything else."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as 10m, 48h or 2d")
    return int(match["count"]) * _UNITS[match["unit"]]


def format_duration(window: timedelta) -> str:
    """The shortest of `parse_duration`'s spellings for `window`: 10m, 48h, 2d."""
    seconds = int(window.total_seconds())
    for unit in ("d", "h", "m"):
        size = int(_UNITS[unit].total_seconds())
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


_METHOD = re.compile(r"^[a-z][a-z0-9_]{0,31}$", re.ASCII)
_INTEGRATIONS_FORMAT = ("PAYMOB_INTEGRATIONS is a comma-separated list of "
                        "id:method[:window], such as 4900001:card:10m,4900003:kiosk:48h")


def _integrations(env: Mapping[str, str]) -> tuple[Integration, ...]:
    """PAYMOB_INTEGRATIONS, or the ids of PAYMOB_INTEGRATION_IDS as card integrations."""
    raw, ids = env.get("PAYMOB_INTEGRATIONS", ""), env.get("PAYMOB_INTEGRATION_IDS", "")
    if raw.strip() and ids.strip():
        raise ConfigurationError("Set PAYMOB_INTEGRATIONS or PAYMOB_INTEGRATION_IDS, not both.")
    if not raw.strip():
        return tuple(Integration(integration_id) for integration_id in _ids(ids))
    integrations = []
    for entry in (part.strip() for part in raw.split(",") if part.strip()):
        integration_id, _, rest = entry.partition(":")
        method, _, window = rest.partition(":")
        if not (integration_id.isascii() and integration_id.isdigit()
                and int(integration_id) > 0 and _METHOD.match(method)):
            raise ConfigurationError(f"{_INTEGRATIONS_FORMAT}, not {entry!r}.")
        try:
            duration = parse_duration(window) if window else None
        except ValueError as error:
            raise ConfigurationError(f"{_INTEGRATIONS_FORMAT}: {error}.") from None
        integrations.append(Integration(int(integration_id), method, duration))
    if len({integration.id for integration in integrations}) != len(integrations):
        raise ConfigurationError("PAYMOB_INTEGRATIONS names an integration id twice.")
    return tuple(integrations)
