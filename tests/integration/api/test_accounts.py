"""Accounts and tokens: the contract's first table."""

from __future__ import annotations

import re

import pytest

from tests.integration.api.conftest import PASSWORD, Api

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$")


def test_register_returns_the_profile_and_stores_only_a_hash(client: Api) -> None:
    response = client.http.post("/api/v1/register/", json={
        "username": "amira", "email": "Amira@Example.com", "password": PASSWORD,
        "first_name": "Amira", "last_name": "Hassan"})
    assert response.status_code == 201
    body = response.json
    assert set(body) == {"id", "username", "email", "first_name", "last_name", "is_staff",
                         "date_joined", "phone_number"}
    assert body["username"] == "amira" and body["email"] == "amira@example.com"
    assert body["is_staff"] is False and ISO_UTC.match(body["date_joined"])
    assert body["phone_number"] is None
    with client.shop.uow() as uow:
        user = uow.users.get_by_username("amira")
    assert user is not None and PASSWORD not in user.password_hash
    assert user.password_hash.startswith("$argon2")


def test_register_refuses_duplicates_bad_emails_and_weak_passwords(client: Api) -> None:
    client.register("amira")
    cases = [
        ({"username": "amira", "email": "other@example.com"}, "username"),
        ({"username": "other", "email": "AMIRA@example.com"}, "email"),
        ({"username": "other", "email": "not-an-email"}, "email"),
        ({"username": "other", "password": "short1"}, "password"),
        ({"username": "other", "password": "12345678901"}, "password"),
        ({"username": "other-name", "password": "other-name"}, "password"),
        ({"username": "other", "password": "x" * 129}, "password"),
    ]
    for change, field in cases:
        body = {"username": "u", "email": "u@example.com", "password": PASSWORD, **change}
        response = client.http.post("/api/v1/register/", json=body)
        assert response.status_code == 400, change
        assert isinstance(response.json[field], list) and response.json[field], change


def test_register_requires_fields_of_the_right_type(lite: Api) -> None:
    response = lite.http.post("/api/v1/register/", json={"username": 5})
    assert response.status_code == 400
    assert set(response.json) == {"username", "email", "password"}


def test_register_cannot_make_a_staff_user(lite: Api) -> None:
    response = lite.http.post("/api/v1/register/", json={
        "username": "sneaky", "email": "s@example.com", "password": PASSWORD, "is_staff": True})
    assert response.status_code == 201 and response.json["is_staff"] is False


def test_token_pair_for_good_credentials_and_401_otherwise(client: Api) -> None:
    client.register("amira")
    pair = client.tokens("amira")
    assert set(pair) == {"access", "refresh"}
    for username, password in (("amira", "wrong password"), ("nobody", PASSWORD)):
        response = client.http.post("/api/v1/token/",
                                    json={"username": username, "password": password})
        assert response.status_code == 401
        assert set(response.json) == {"detail"}


def test_access_token_carries_the_user_id_and_staff_flag(lite: Api) -> None:
    import jwt

    user = lite.register("admin", staff=True)
    claims = jwt.decode(lite.tokens("admin")["access"], options={"verify_signature": False})
    assert claims["sub"] == str(user["id"]) and claims["is_staff"] is True
    assert claims["type"] == "access" and claims["exp"] - claims["iat"] == 15 * 60


def test_refresh_rotates_and_a_reused_token_revokes_its_family(client: Api) -> None:
    client.register("amira")
    first = client.tokens("amira")
    response = client.http.post("/api/v1/token/refresh/", json={"refresh": first["refresh"]})
    assert response.status_code == 200
    second = response.json
    assert set(second) == {"access", "refresh"} and second["refresh"] != first["refresh"]
    assert client.http.get("/api/v1/profile/", headers={
        "Authorization": f"Bearer {second['access']}"}).status_code == 200

    replay = client.http.post("/api/v1/token/refresh/", json={"refresh": first["refresh"]})
    assert replay.status_code == 401 and "detail" in replay.json
    # The leak revoked the whole session: the rotated token is dead too.
    after = client.http.post("/api/v1/token/refresh/", json={"refresh": second["refresh"]})
    assert after.status_code == 401
    # A new sign-in starts a new, working session.
    fresh = client.tokens("amira")
    assert client.http.post("/api/v1/token/refresh/",
                            json={"refresh": fresh["refresh"]}).status_code == 200


def test_refresh_refuses_garbage_and_access_tokens(lite: Api) -> None:
    lite.register("amira")
    pair = lite.tokens("amira")
    for token in ("not.a.jwt", "", pair["access"]):
        response = lite.http.post("/api/v1/token/refresh/", json={"refresh": token})
        assert response.status_code == 401, token
        assert set(response.json) == {"detail"}
    assert lite.http.post("/api/v1/token/refresh/", json={}).status_code == 400


def test_profile_read_and_update(client: Api) -> None:
    headers = client.auth("amira")
    profile = client.http.get("/api/v1/profile/", headers=headers)
    assert profile.status_code == 200 and profile.json["username"] == "amira"

    put = client.http.put("/api/v1/profile/", headers=headers, json={
        "email": "new@example.com", "first_name": "A", "last_name": "H",
        "username": "renamed", "is_staff": True})
    assert put.status_code == 200
    assert put.json["email"] == "new@example.com" and put.json["first_name"] == "A"
    assert put.json["username"] == "amira" and put.json["is_staff"] is False

    patch = client.http.patch("/api/v1/profile/", headers=headers, json={"last_name": "Z"})
    assert patch.status_code == 200
    assert patch.json["last_name"] == "Z" and patch.json["first_name"] == "A"


def test_profile_put_needs_all_three_fields_and_valid_values(client: Api) -> None:
    client.register("taken")
    headers = client.auth("amira")
    incomplete = client.http.put("/api/v1/profile/", headers=headers,
                                 json={"email": "x@example.com"})
    assert incomplete.status_code == 400
    assert set(incomplete.json) == {"first_name", "last_name"}
    for body in ({"email": "bad"}, {"email": "taken@example.com"}, {"first_name": "x" * 151}):
        response = client.http.patch("/api/v1/profile/", headers=headers, json=body)
        assert response.status_code == 400 and set(response.json) == set(body), body


@pytest.mark.parametrize("method", ["get", "put", "patch"])
def test_profile_needs_a_token(lite: Api, method: str) -> None:
    response = getattr(lite.http, method)("/api/v1/profile/", json={})
    assert response.status_code == 401
    assert response.json == {"detail": "Authentication credentials were not provided."}
