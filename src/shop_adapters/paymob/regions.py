"""Paymob's markets: each country's account lives on its own API host, and a merchant's keys
say which country and which mode (test or live) they belong to, in their prefix:
``egy_sk_test_…``, ``are_pk_live_…``. See README.md beside this module for the table."""

from __future__ import annotations

import enum
import re

from attrs import frozen


@frozen
class Region:
    """One of Paymob's markets: its key prefix, API host and currency."""

    code: str
    country: str
    api_base: str
    currency: str


REGIONS: dict[str, Region] = {region.code: region for region in (
    Region("egy", "Egypt", "https://accept.paymob.com", "EGP"),
    Region("are", "United Arab Emirates", "https://uae.paymob.com", "AED"),
    Region("sau", "Saudi Arabia", "https://ksa.paymob.com", "SAR"),
    Region("omn", "Oman", "https://oman.paymob.com", "OMR"),
    Region("pak", "Pakistan", "https://pakistan.paymob.com", "PKR"),
)}
# Keys without a known prefix (older accounts) are Egypt's, Paymob's first market.
DEFAULT_REGION = REGIONS["egy"]


class KeyMode(enum.Enum):
    """Which of the merchant's two dashboards a key comes from."""

    TEST = "test"
    LIVE = "live"


_PREFIX = re.compile(r"^(?P<region>[a-z]{3})_(?P<kind>sk|pk)_(?P<mode>test|live)_", re.ASCII)


@frozen
class KeyFacts:
    """What a key's prefix says; None where it says nothing the shop recognises."""

    region: Region | None
    mode: KeyMode | None


def read_key(key: str) -> KeyFacts:
    """The region and mode in `key`'s prefix (`egy_sk_test_…`); never the rest of it."""
    match = _PREFIX.match(key)
    if match is None:
        return KeyFacts(None, None)
    return KeyFacts(REGIONS.get(match["region"]), KeyMode(match["mode"]))


@frozen
class Account:
    """The merchant account a pair of keys opens: where it lives and in which mode."""

    region: Region
    mode: KeyMode | None
    # False when the keys name no market the shop knows, and the default was assumed.
    recognised: bool


class MismatchedKeys(ValueError):
    """The secret and public keys belong to different markets or modes."""


def account_of(secret_key: str, public_key: str) -> Account:
    """The account both keys belong to. Raises `MismatchedKeys` when they disagree: Paymob
    would refuse every intention made with one and paid with the other."""
    facts = [read_key(key) for key in (secret_key, public_key) if key]
    regions = {fact.region for fact in facts if fact.region is not None}
    modes = {fact.mode for fact in facts if fact.mode is not None}
    if len(regions) > 1:
        raise MismatchedKeys("PAYMOB_SECRET_KEY and PAYMOB_PUBLIC_KEY belong to different "
                             f"markets ({', '.join(sorted(r.code for r in regions))}).")
    if len(modes) > 1:
        raise MismatchedKeys("PAYMOB_SECRET_KEY and PAYMOB_PUBLIC_KEY mix test and live mode.")
    region = next(iter(regions), None)
    return Account(region=region or DEFAULT_REGION, mode=next(iter(modes), None),
                   recognised=region is not None)


def key_prefix(key: str) -> str:
    """The non-secret start of a key (``egy_sk_test_``), to name it in messages and output."""
    match = _PREFIX.match(key)
    return match[0] if match else "(no recognised prefix)"
