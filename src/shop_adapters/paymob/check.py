"""`shop paymob check`: what the shop will send to Paymob and to whom, and, against a live
API, whether the keys open the account the shop is set up for, without creating anything.

Verification makes two reads: an auth token from `POST /api/auth/tokens` with the API key,
then the account's integrations from `GET /api/ecommerce/integrations` (the read Paymob's own
e-commerce plugins make to list a merchant's integrations; Paymob's developer pages document
the token call but not this list). Nothing that could create an order or a payment is called,
and no secret or token is ever printed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import requests
from attrs import define, field

from shop_adapters.paymob.regions import Account, KeyMode
from shop_adapters.paymob.settings import PaymobSettings

AUTH_PATH = "/api/auth/tokens"
INTEGRATIONS_PATH = "/api/ecommerce/integrations"
# One page large enough for any merchant's integrations, live and deprecated ones excluded
# as Paymob's plugins ask.
INTEGRATIONS_QUERY = {"page_size": "500", "is_deprecated": "false", "is_standalone": "false"}


@define
class Report:
    """Lines to print, and the problems verification found (none: the set-up checks out)."""

    lines: list[str] = field(factory=list)
    problems: list[str] = field(factory=list)

    def add(self, label: str, value: str) -> None:
        self.lines.append(f"  {label + ':':<14}{value}".rstrip())

    def fail(self, label: str, problem: str) -> None:
        self.add(label, f"FAILED: {problem}")
        self.problems.append(problem)


def describe(settings: PaymobSettings, account: Account, *, live: bool, base_from_keys: bool,
             default_window: timedelta, window_text: Callable[[timedelta], str]) -> Report:
    """What the shop sends and to whom: never a secret."""
    report = Report(["Paymob set-up"])
    report.add("gateway", "live: Paymob's API" if live else
               "sandbox: the shop's own checkout page; nothing is sent to Paymob")
    region = account.region
    report.add("market", f"{region.country} ({region.code})" if account.recognised
               else f"{region.country} (assumed: the keys name no market)")
    report.add("key mode", account.mode.value if account.mode else "unknown (no prefix)")
    report.add("API base", settings.api_base + (" (from the keys)" if base_from_keys
                                                else " (PAYMOB_API_BASE)"))
    market_currency = (f" (the {region.country} market takes {region.currency}: Paymob "
                       f"would refuse these intentions)"
                       if account.recognised and region.currency != settings.currency else "")
    report.add("currency", settings.currency + market_currency)
    report.add("integrations", "" if settings.all_integrations else "none")
    for integration in settings.all_integrations:
        window = integration.window or default_window
        default = " (default window)" if window == default_window else ""
        report.lines.append(f"    {integration.id:<12}{integration.method:<14}"
                            f"{window_text(window)}{default}")
    report.add("callback URL", settings.notification_url)
    report.add("return URL", settings.redirection_url)
    report.add("reference", f"{settings.reference_prefix}-<order id>")
    return report


def verify(report: Report, settings: PaymobSettings, api_key: str, account: Account,
           session: requests.Session | None = None) -> None:
    """Add the live verification to `report`: the API key gets a token, and the configured
    integrations exist in the account, in the keys' mode and the shop's currency."""
    report.lines.append("Verification against Paymob")
    if not api_key:
        report.fail("auth token", "PAYMOB_API_KEY is not set, so the keys cannot be checked.")
        return
    http = session or requests.Session()
    token = _token(report, http, settings, api_key)
    if token is None:
        return
    listed = _integrations(report, http, settings, token)
    if listed is not None:
        _compare(report, settings, account, listed)
    report.add("secret key", "not verified: Paymob offers no read with it that creates "
                             "nothing; the first order proves it")


def _token(report: Report, http: requests.Session, settings: PaymobSettings,
           api_key: str) -> str | None:
    body = _call(report, "auth token", lambda: http.post(
        f"{settings.api_base}{AUTH_PATH}", json={"api_key": api_key},
        timeout=settings.timeout, allow_redirects=False))
    if body is None:
        return None
    token = body.get("token")
    if not isinstance(token, str) or not token:
        report.fail("auth token", "Paymob's answer has no token.")
        return None
    report.add("auth token", f"ok (POST {AUTH_PATH} with PAYMOB_API_KEY)")
    return token


def _integrations(report: Report, http: requests.Session, settings: PaymobSettings,
                  token: str) -> dict[int, Mapping[str, Any]] | None:
    body = _call(report, "integrations", lambda: http.get(
        f"{settings.api_base}{INTEGRATIONS_PATH}", params=INTEGRATIONS_QUERY,
        headers={"Authorization": f"Bearer {token}"}, timeout=settings.timeout,
        allow_redirects=False))
    if body is None:
        return None
    results = body.get("results")
    if not isinstance(results, list):
        report.fail("integrations", "Paymob's answer has no list of integrations.")
        return None
    return {item["id"]: item for item in results
            if isinstance(item, Mapping) and isinstance(item.get("id"), int)}


def _compare(report: Report, settings: PaymobSettings, account: Account,
             listed: Mapping[int, Mapping[str, Any]]) -> None:
    for integration in settings.all_integrations:
        label = f"{integration.id}"
        found = listed.get(integration.id)
        if found is None:
            report.fail(label, "not an integration of this account.")
            continue
        problems = []
        if account.mode is not None and found.get("is_live") is not (
                account.mode is KeyMode.LIVE):
            problems.append(f"a {'live' if found.get('is_live') else 'test'} integration "
                            f"with {account.mode.value} keys")
        if found.get("currency") not in (None, settings.currency):
            problems.append(f"takes {found.get('currency')}, the shop sells in "
                            f"{settings.currency}")
        if problems:
            report.fail(label, "; ".join(problems) + ".")
        else:
            kind = found.get("gateway_type") or integration.method
            report.add(label, f"ok ({kind}, {'live' if found.get('is_live') else 'test'}, "
                              f"{found.get('currency') or settings.currency})")


def _call(report: Report, label: str,
          send: Callable[[], requests.Response]) -> dict[str, Any] | None:
    """One read, its failures put into words; the JSON object answered, or None."""
    try:
        response = send()
    except requests.Timeout:
        report.fail(label, "Paymob did not answer in time.")
        return None
    except requests.RequestException as error:
        report.fail(label, f"Paymob could not be reached ({type(error).__name__}).")
        return None
    with response:
        if not 200 <= response.status_code < 300:
            report.fail(label, f"Paymob refused (HTTP {response.status_code}).")
            return None
        try:
            body = response.json()
        except ValueError:
            body = None
    if not isinstance(body, dict):
        report.fail(label, "Paymob answered with something that is not a JSON object.")
        return None
    return body
