"""Staff subscribe targets to the shop's events; the secret is shown once; targets are
checked."""

from __future__ import annotations

import pytest

from shop_adapters.webhooks.targets import TargetPolicy
from shop_core.errors import TargetRefused

from .conftest import Api, AppFactory

HOOKS = "/api/v1/webhooks/"


def subscribe(api: Api, url: str = "http://127.0.0.1:9/hooks", **extra: object) -> dict:  # type: ignore[type-arg]
    created = api.http.post(HOOKS, headers=api.auth("admin"), json={
        "url": url, "events": ["order.placed", "order.paid"], **extra})
    assert created.status_code == 201, created.json
    return dict(created.json)


def test_staff_subscribe_and_see_the_secret_only_once(client: Api) -> None:
    created = subscribe(client, description="Fulfilment")
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 30
    assert created["events"] == ["order.paid", "order.placed"]
    assert (created["disabled"], created["last_error"]) == (False, None)
    admin = client.auth("admin")
    one = client.http.get(f"{HOOKS}{created['id']}/", headers=admin)
    listed = client.http.get(HOOKS, headers=admin)
    assert one.status_code == 200 and "secret" not in one.json
    assert one.json["description"] == "Fulfilment"
    assert listed.json["count"] == 1 and "secret" not in listed.json["results"][0]


def test_customers_may_not_touch_webhooks(lite: Api) -> None:
    customer = lite.auth("amira")
    assert lite.http.get(HOOKS, headers=customer).status_code == 403
    assert lite.http.post(HOOKS, headers=customer, json={
        "url": "https://example.com/", "events": ["order.paid"]}).status_code == 403
    assert lite.http.get(HOOKS).status_code == 401


def test_deleting_a_webhook_stops_it(lite: Api) -> None:
    created = subscribe(lite)
    admin = lite.auth("admin")
    assert lite.http.delete(f"{HOOKS}{created['id']}/", headers=admin).status_code == 204
    assert lite.http.get(f"{HOOKS}{created['id']}/", headers=admin).status_code == 404
    assert lite.http.delete(f"{HOOKS}{created['id']}/", headers=admin).status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"url": "http://127.0.0.1/", "events": ["order.shipped"]}, "events"),
    ({"url": "http://127.0.0.1/", "events": []}, "events"),
    ({"url": "ftp://127.0.0.1/", "events": ["order.paid"]}, "url"),
    ({"url": "not a url", "events": ["order.paid"]}, "url"),
    ({"url": "http://user:pw@127.0.0.1/", "events": ["order.paid"]}, "url"),
    ({"url": "http://no-such-host.invalid/", "events": ["order.paid"]}, "url"),
    ({"events": ["order.paid"]}, "url"),
])
def test_a_bad_subscription_is_400_naming_the_field(lite: Api, body: dict,  # type: ignore[type-arg]
                                                    field: str) -> None:
    refused = lite.http.post(HOOKS, headers=lite.auth("admin"), json=body)
    assert refused.status_code == 400, refused.json
    assert field in refused.json
    assert lite.http.get(HOOKS, headers=lite.auth("admin")).json["count"] == 0


PRODUCTION = {"SHOP_ENV": "production", "PAYMOB_MODE": "live", "PASSWORD_HASH_PROFILE": "strong",
              "PAYMOB_SECRET_KEY": "egy_sk_live_0123456789", "PAYMOB_PUBLIC_KEY": "egy_pk_live_1",
              "PAYMOB_HMAC_SECRET": "0123456789abcdef", "PAYMOB_INTEGRATION_IDS": "1"}
NOT_PUBLIC = [
    "http://example.com/hooks",  # not https
    "https://127.0.0.1/hooks", "https://localhost/hooks", "https://10.1.2.3/hooks",
    "https://192.168.0.10/hooks", "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/hooks", "https://[fd00:ec2::254]/", "https://[::ffff:10.0.0.1]/",
    "https://100.64.0.1/", "https://0.0.0.0/",
]


def test_production_refuses_targets_that_are_not_https_or_not_public(
        make_lite: AppFactory) -> None:
    production = make_lite(**PRODUCTION)
    admin = production.auth("admin")
    for url in NOT_PUBLIC:
        refused = production.http.post(HOOKS, headers=admin,
                                       json={"url": url, "events": ["order.paid"]})
        assert refused.status_code == 400, (url, refused.json)
        assert list(refused.json) == ["url"], url
    assert production.http.get(HOOKS, headers=admin).json["count"] == 0


def test_a_public_address_passes_the_production_check() -> None:
    target = TargetPolicy(production=True).resolve("https://93.184.215.14:8443/in?x=1")
    assert (target.address, target.port, target.path) == ("93.184.215.14", 8443, "/in?x=1")
    with pytest.raises(TargetRefused):
        TargetPolicy(production=True).check("https://[::1]:8443/")
