from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from attrs import evolve

from shop_core.accounts import normalize_email, password_errors
from shop_core.errors import AuthenticationFailed, NotFound, ValidationError
from shop_core.use_cases.accounts import (
    ProfileChanges,
    Registration,
    authenticate,
    get_user,
    register,
    update_profile,
)

from .builders import Shop


def sign_up(shop: Shop, username: str = "alice", email: str = "alice@example.com",
            password: str = "correct horse", first_name: str = "", last_name: str = "") -> int:
    user = register(shop.uow, shop.hasher, shop.clock,
                    Registration(username, email, password, first_name, last_name))
    assert user.id is not None
    return user.id


def refused_fields(shop: Shop, **fields: Any) -> dict[str, object]:
    registration = Registration("bob", "bob@example.com", "correct horse")
    with pytest.raises(ValidationError) as raised:
        register(shop.uow, shop.hasher, shop.clock, evolve(registration, **fields))
    return raised.value.field_errors


# --- registration ------------------------------------------------------------------------

def test_registration_stores_the_profile_and_only_a_hash_of_the_password(shop: Shop) -> None:
    user_id = sign_up(shop, first_name="Alice", last_name="Liddell")
    stored = shop.user(user_id)
    assert (stored.username, stored.email, stored.first_name, stored.last_name) == (
        "alice", "alice@example.com", "Alice", "Liddell")
    assert not stored.is_staff
    assert stored.password_hash != "correct horse"
    assert shop.hasher.verify(stored.password_hash, "correct horse")
    assert stored.date_joined == shop.clock.now()


def test_registration_stores_the_email_in_lower_case(shop: Shop) -> None:
    user_id = sign_up(shop, email="  Alice@Example.COM ")
    assert shop.user(user_id).email == "alice@example.com"


def test_duplicate_username_is_refused(shop: Shop) -> None:
    sign_up(shop, username="bob", email="first@example.com")
    assert set(refused_fields(shop, username="bob")) == {"username"}


def test_duplicate_email_is_refused_whatever_its_case(shop: Shop) -> None:
    sign_up(shop, email="bob@example.com")
    assert set(refused_fields(shop, email="BOB@Example.com")) == {"email"}


@pytest.mark.parametrize("email", ["", "bob", "bob@", "@example.com", "bob@example",
                                   "bob smith@example.com", "a@b@example.com",
                                   "x" * 250 + "@example.com"])
def test_invalid_email_is_refused(shop: Shop, email: str) -> None:
    assert set(refused_fields(shop, email=email)) == {"email"}


@pytest.mark.parametrize("password", ["short7!", "", "12345678901234", "bobbybob",
                                      "BobbyBob", "x" * 129])
def test_weak_or_overlong_password_is_refused(shop: Shop, password: str) -> None:
    assert set(refused_fields(shop, username="bobbybob", password=password)) == {"password"}


def test_password_rules_at_their_boundaries() -> None:
    assert password_errors("abcdefgh", "bob") == []
    assert password_errors("x" * 128, "bob") == []
    assert len(password_errors("abcdefg", "bob")) == 1
    assert len(password_errors("x" * 129, "bob")) == 1
    assert len(password_errors("1234567", "bob")) == 2  # too short and all digits


@pytest.mark.parametrize("username", ["", "bob smith", "bob/x", "x" * 151])
def test_invalid_username_is_refused(shop: Shop, username: str) -> None:
    assert "username" in refused_fields(shop, username=username)


def test_overlong_names_are_refused(shop: Shop) -> None:
    assert set(refused_fields(shop, first_name="x" * 151, last_name="y" * 151)) == {
        "first_name", "last_name"}


def test_every_broken_field_is_reported_together(shop: Shop) -> None:
    sign_up(shop, username="bob", email="taken@example.com")
    assert set(refused_fields(shop, username="bob", email="TAKEN@example.com",
                              password="123")) == {"username", "email", "password"}


def test_refused_registration_stores_nothing(shop: Shop) -> None:
    refused_fields(shop, password="123")
    assert shop.uow.store.users == {}


def test_normalize_email_trims_and_lowers() -> None:
    assert normalize_email(" A.B@Example.COM\n") == "a.b@example.com"


# --- signing in --------------------------------------------------------------------------

def test_right_credentials_authenticate(shop: Shop) -> None:
    user_id = sign_up(shop)
    assert authenticate(shop.uow, shop.hasher, "alice", "correct horse").id == user_id


@pytest.mark.parametrize(("username", "password"), [("alice", "wrong horse"),
                                                    ("nobody", "correct horse"),
                                                    ("alice", "")])
def test_wrong_credentials_are_refused(shop: Shop, username: str, password: str) -> None:
    sign_up(shop)
    with pytest.raises(AuthenticationFailed):
        authenticate(shop.uow, shop.hasher, username, password)


def test_get_user_of_unknown_id_is_not_found(shop: Shop) -> None:
    with pytest.raises(NotFound):
        get_user(shop.uow, 99)


# --- profile -----------------------------------------------------------------------------

def test_profile_update_changes_email_and_names(shop: Shop) -> None:
    user_id = sign_up(shop)
    updated = update_profile(shop.uow, user_id, ProfileChanges(
        email="New@Example.com", first_name="Al", last_name="L"))
    stored = shop.user(user_id)
    assert (stored.email, stored.first_name, stored.last_name) == ("new@example.com", "Al", "L")
    assert updated.email == "new@example.com"


def test_partial_profile_update_leaves_other_fields(shop: Shop) -> None:
    user_id = sign_up(shop, first_name="Alice", last_name="Liddell")
    update_profile(shop.uow, user_id, ProfileChanges(last_name="Hargreaves"))
    stored = shop.user(user_id)
    assert (stored.username, stored.email, stored.first_name, stored.last_name) == (
        "alice", "alice@example.com", "Alice", "Hargreaves")
    assert not stored.is_staff


def test_keeping_ones_own_email_in_another_case_is_fine(shop: Shop) -> None:
    user_id = sign_up(shop)
    update_profile(shop.uow, user_id, ProfileChanges(email="ALICE@example.com"))
    assert shop.user(user_id).email == "alice@example.com"


def test_profile_update_to_someone_elses_email_is_refused(shop: Shop) -> None:
    sign_up(shop, username="bob", email="bob@example.com")
    user_id = sign_up(shop)
    with pytest.raises(ValidationError) as raised:
        update_profile(shop.uow, user_id, ProfileChanges(email="Bob@Example.com",
                                                         first_name="Changed"))
    assert set(raised.value.field_errors) == {"email"}
    assert shop.user(user_id).email == "alice@example.com"
    assert shop.user(user_id).first_name == ""


@pytest.mark.parametrize("changes", [ProfileChanges(email="not-an-email"),
                                     ProfileChanges(first_name="x" * 151)])
def test_invalid_profile_update_changes_nothing(shop: Shop, changes: ProfileChanges) -> None:
    user_id = sign_up(shop)
    before = shop.user(user_id)
    with pytest.raises(ValidationError):
        update_profile(shop.uow, user_id, changes)
    assert shop.user(user_id) == before


def test_profile_update_of_unknown_user_is_not_found(shop: Shop) -> None:
    with pytest.raises(NotFound):
        update_profile(shop.uow, 99, ProfileChanges(first_name="x"))


def test_registration_time_is_the_clock_time(shop: Shop) -> None:
    shop.clock.advance(timedelta(days=3))
    assert shop.user(sign_up(shop)).date_joined == shop.clock.now()
