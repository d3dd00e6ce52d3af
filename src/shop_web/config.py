"""Settings from the environment, validated once at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from attrs import evolve, field, frozen

ENVIRONMENTS = ("development", "test", "production")
LOG_FORMATS = ("text", "json")
DEVELOPMENT_JWT_SECRET = "development-only-secret-change-me-0123456789abcdef"


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
    public_base_url: str = "http://127.0.0.1:8000"
    port: int = 8000
    paymob_mode: str = "sandbox"
    paymob_api_base: str = "https://accept.paymob.com"
    paymob_secret_key: str = field(default="", repr=_secret_repr)
    paymob_public_key: str = ""
    paymob_hmac_secret: str = field(default="", repr=_secret_repr)
    paymob_integration_ids: tuple[int, ...] = ()
    paymob_currency: str = "EGP"
    paymob_reference_prefix: str = "shop"
    order_payment_timeout: timedelta = timedelta(seconds=600)
    rate_limit_auth: str = "30/minute"
    expiry_sweep_interval: float = 2.0
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
            "public_base_url": env.get("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}"),
            "port": port,
            "paymob_mode": env.get("PAYMOB_MODE", "live" if has_keys else "sandbox"),
            "paymob_api_base": env.get("PAYMOB_API_BASE", "https://accept.paymob.com"),
            "paymob_secret_key": env.get("PAYMOB_SECRET_KEY", ""),
            "paymob_public_key": env.get("PAYMOB_PUBLIC_KEY", ""),
            "paymob_hmac_secret": env.get("PAYMOB_HMAC_SECRET", ""),
            "paymob_integration_ids": _ids(env.get("PAYMOB_INTEGRATION_IDS", "")),
            "paymob_currency": env.get("PAYMOB_CURRENCY", "EGP"),
            "paymob_reference_prefix": env.get("PAYMOB_REFERENCE_PREFIX", "shop"),
            "order_payment_timeout": timedelta(
                seconds=_int(env, "ORDER_PAYMENT_TIMEOUT_SECONDS", 600)),
            "rate_limit_auth": env.get("RATE_LIMIT_AUTH", "30/minute"),
            "expiry_sweep_interval": float(env.get("EXPIRY_SWEEP_INTERVAL_SECONDS", "2")),
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
        if self.is_production:
            self._check_production()
        if self.paymob_mode == "live":
            missing = [name for name, value in (
                ("PAYMOB_SECRET_KEY", self.paymob_secret_key),
                ("PAYMOB_PUBLIC_KEY", self.paymob_public_key),
                ("PAYMOB_HMAC_SECRET", self.paymob_hmac_secret),
                ("PAYMOB_INTEGRATION_IDS", self.paymob_integration_ids),
            ) if not value]
            if missing:
                raise ConfigurationError(f"Live payments need {', '.join(missing)}.")
            return self
        # The sandbox signs its own callbacks; a fixed development secret is harmless there.
        return evolve(
            self,
            paymob_public_key=self.paymob_public_key or "sandbox_public_key",
            paymob_hmac_secret=self.paymob_hmac_secret or "sandbox-hmac-secret",
            paymob_integration_ids=self.paymob_integration_ids or (1,),
        )

    def _check_production(self) -> None:
        if self.jwt_secret_key in ("", DEVELOPMENT_JWT_SECRET) or len(self.jwt_secret_key) < 32:
            raise ConfigurationError(
                "Production needs JWT_SECRET_KEY: a random secret of at least 32 characters.")
        if self.paymob_mode == "sandbox":
            raise ConfigurationError("Production never runs with sandbox payments.")


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
