"""Paymob's markets: the keys say where the account lives and in which mode, and the shop
talks to that market's host; production never takes test keys."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from shop_adapters.paymob.regions import KeyMode, MismatchedKeys, account_of, read_key
from shop_web.bootstrap import build_shop
from shop_web.cli import main
from shop_web.config import ConfigurationError, Settings

LIVE_SECRET = "omn_sk_live_9f8e7d6c5b4a-SECRET"
LIVE_PUBLIC = "omn_pk_live_public"


def live_env(tmp_path: Path, **changes: str) -> dict[str, str]:
    return {"SHOP_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp_path}/shop.db",
            "PAYMOB_SECRET_KEY": LIVE_SECRET, "PAYMOB_PUBLIC_KEY": LIVE_PUBLIC,
            "PAYMOB_HMAC_SECRET": "HMAC-SECRET", "PAYMOB_INTEGRATION_IDS": "4900001",
            **changes}


@pytest.mark.parametrize(("key", "region", "host", "mode"), [
    ("egy_sk_test_0123", "egy", "https://accept.paymob.com", KeyMode.TEST),
    ("are_sk_live_0123", "are", "https://uae.paymob.com", KeyMode.LIVE),
    ("sau_pk_test_0123", "sau", "https://ksa.paymob.com", KeyMode.TEST),
    ("omn_sk_live_0123", "omn", "https://oman.paymob.com", KeyMode.LIVE),
    ("pak_pk_live_0123", "pak", "https://pakistan.paymob.com", KeyMode.LIVE),
])
def test_a_key_s_prefix_names_its_market_and_mode(key: str, region: str, host: str,
                                                  mode: KeyMode) -> None:
    facts = read_key(key)
    assert facts.region is not None and facts.mode is mode
    assert (facts.region.code, facts.region.api_base) == (region, host)


@pytest.mark.parametrize("key", ["sk_test_0123", "xyz_sk_live_0123", "egy_sk_beta_0", ""])
def test_a_key_without_a_known_prefix_says_nothing(key: str) -> None:
    assert read_key(key).region is None or read_key(key).mode is None


def test_keys_of_two_markets_or_modes_are_refused() -> None:
    with pytest.raises(MismatchedKeys):
        account_of("egy_sk_live_1", "are_pk_live_1")
    with pytest.raises(MismatchedKeys):
        account_of("egy_sk_live_1", "egy_pk_test_1")


def test_the_api_base_follows_the_keys_market(tmp_path: Path) -> None:
    settings = Settings.from_env(live_env(tmp_path))
    assert settings.paymob_base_url == "https://oman.paymob.com"
    assert build_shop(settings).paymob.api_base == "https://oman.paymob.com"


def test_paymob_api_base_overrides_the_market(tmp_path: Path) -> None:
    settings = Settings.from_env(live_env(tmp_path, PAYMOB_API_BASE="http://127.0.0.1:9/"))
    assert build_shop(settings).paymob.api_base == "http://127.0.0.1:9"


def test_keys_without_a_market_use_egypt_s_host(tmp_path: Path) -> None:
    settings = Settings.from_env(live_env(tmp_path, PAYMOB_SECRET_KEY="sk_legacy",
                                          PAYMOB_PUBLIC_KEY="pk_legacy"))
    assert settings.paymob_base_url == "https://accept.paymob.com"


def test_mismatched_keys_stop_the_shop_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="different markets"):
        Settings.from_env(live_env(tmp_path, PAYMOB_PUBLIC_KEY="egy_pk_live_public"))


def production(tmp_path: Path, **changes: str) -> dict[str, str]:
    return live_env(tmp_path, SHOP_ENV="production", JWT_SECRET_KEY="j" * 40, **changes)


def test_production_refuses_test_keys(tmp_path: Path) -> None:
    env = production(tmp_path, PAYMOB_SECRET_KEY="egy_sk_test_6b1f0c7d9e2a",
                     PAYMOB_PUBLIC_KEY="egy_pk_test_public")
    with pytest.raises(ConfigurationError, match="test keys") as refused:
        Settings.from_env(env)
    assert "egy_sk_test_" in str(refused.value) and "6b1f0c7d9e2a" not in str(refused.value)
    result = CliRunner().invoke(main, ["expire-orders"], env=env)
    assert result.exit_code != 0 and "Production refuses Paymob test keys" in result.output


def test_production_takes_live_keys(tmp_path: Path) -> None:
    assert Settings.from_env(production(tmp_path)).paymob_account.mode is KeyMode.LIVE


def test_payment_windows_per_integration_are_read_from_the_environment(
        tmp_path: Path) -> None:
    settings = Settings.from_env(live_env(
        tmp_path, PAYMOB_INTEGRATION_IDS="",
        PAYMOB_INTEGRATIONS="4900001:card,4900002:wallet:10m,4900003:kiosk:48h,"
                            "4900004:installments:3d"))
    assert settings.paymob_integration_ids == (4900001, 4900002, 4900003, 4900004)
    assert {m.name: m.window for m in settings.payment_methods.methods} == {
        "card": timedelta(minutes=10), "wallet": timedelta(minutes=10),
        "kiosk": timedelta(hours=48), "installments": timedelta(days=3)}
    assert build_shop(settings).paymob.integration_ids_for(["kiosk"]) == [4900003]


def test_integration_ids_alone_are_card_integrations_with_the_default_window(
        tmp_path: Path) -> None:
    settings = Settings.from_env(live_env(tmp_path, PAYMOB_INTEGRATION_IDS="11,12",
                                          ORDER_PAYMENT_TIMEOUT_SECONDS="900"))
    assert [(i.id, i.method) for i in settings.paymob_integrations] == [(11, "card"),
                                                                          (12, "card")]
    assert settings.payment_methods.methods[0].window == timedelta(minutes=15)


@pytest.mark.parametrize(("value", "message"), [
    ("4900001:card:10x", "duration"),
    ("4900001", "id:method"),
    ("x:card", "id:method"),
    ("0:card", "id:method"),
    ("4900001:Card", "id:method"),
    ("4900001:kiosk:8d", "between 1 minute and 7 days"),
    ("4900001:kiosk:30s", "between 1 minute and 7 days"),
    ("4900001:kiosk:48h,4900002:kiosk:24h", "two payment windows"),
    ("4900001:card,4900001:kiosk:48h", "twice"),
])
def test_a_bad_integration_list_stops_the_shop_at_start(tmp_path: Path, value: str,
                                                        message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env(live_env(tmp_path, PAYMOB_INTEGRATION_IDS="",
                                   PAYMOB_INTEGRATIONS=value))


def test_both_integration_variables_at_once_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not both"):
        Settings.from_env(live_env(tmp_path, PAYMOB_INTEGRATIONS="4900001:card"))


def test_the_sandbox_takes_the_configured_methods_or_cards_only(tmp_path: Path) -> None:
    sandbox = {"DATABASE_URL": f"sqlite:///{tmp_path}/shop.db"}
    assert Settings.from_env(sandbox).payment_methods.names == ("card",)
    kiosk = Settings.from_env({**sandbox, "PAYMOB_INTEGRATIONS": "7:card,8:kiosk:2d"})
    assert kiosk.paymob_mode == "sandbox" and kiosk.payment_methods.names == ("card", "kiosk")
