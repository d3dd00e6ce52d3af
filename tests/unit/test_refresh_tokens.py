from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta

import pytest

from shop_core.accounts import RefreshToken
from shop_core.errors import AuthenticationFailed
from shop_core.use_cases.accounts import rotate_refresh_token, start_session

from .builders import Shop

LIFETIME = timedelta(days=7)


@pytest.fixture
def new_id() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"id-{next(counter)}"


@pytest.fixture
def session(shop: Shop, new_id: Callable[[], str]) -> RefreshToken:
    return start_session(shop.uow, shop.clock, shop.add_customer(), LIFETIME, new_id)


def rotate(shop: Shop, jti: str, new_id: Callable[[], str]) -> RefreshToken:
    return rotate_refresh_token(shop.uow, shop.clock, jti, LIFETIME, new_id)[1]


def stored(shop: Shop, jti: str) -> RefreshToken:
    return shop.uow.store.refresh_tokens[jti]


def test_session_starts_a_new_family_valid_for_its_lifetime(shop: Shop,
                                                           session: RefreshToken) -> None:
    assert stored(shop, session.jti) == session
    assert session.family_id != session.jti
    assert session.expires_at == shop.clock.now() + LIFETIME
    assert session.revoked_at is None


def test_rotation_revokes_the_presented_token_and_issues_one_of_the_same_family(
        shop: Shop, session: RefreshToken, new_id: Callable[[], str]) -> None:
    shop.clock.advance(timedelta(hours=1))
    user, successor = rotate_refresh_token(shop.uow, shop.clock, session.jti, LIFETIME, new_id)
    assert user.id == session.user_id
    assert stored(shop, session.jti).revoked_at == shop.clock.now()
    assert successor.jti != session.jti
    assert successor.family_id == session.family_id
    assert successor.expires_at == shop.clock.now() + LIFETIME
    assert stored(shop, successor.jti).revoked_at is None


def test_successor_can_be_rotated_in_turn(shop: Shop, session: RefreshToken,
                                          new_id: Callable[[], str]) -> None:
    second = rotate(shop, session.jti, new_id)
    third = rotate(shop, second.jti, new_id)
    assert third.family_id == session.family_id
    assert stored(shop, second.jti).revoked_at is not None


def test_presenting_a_revoked_token_revokes_the_whole_family(
        shop: Shop, session: RefreshToken, new_id: Callable[[], str]) -> None:
    successor = rotate(shop, session.jti, new_id)
    with pytest.raises(AuthenticationFailed):
        rotate(shop, session.jti, new_id)
    assert stored(shop, successor.jti).revoked_at is not None
    with pytest.raises(AuthenticationFailed):
        rotate(shop, successor.jti, new_id)


def test_reuse_leaves_other_families_alone(shop: Shop, session: RefreshToken,
                                           new_id: Callable[[], str]) -> None:
    other = start_session(shop.uow, shop.clock, session.user_id, LIFETIME, new_id)
    rotate(shop, session.jti, new_id)
    with pytest.raises(AuthenticationFailed):
        rotate(shop, session.jti, new_id)
    assert stored(shop, other.jti).revoked_at is None
    rotate(shop, other.jti, new_id)


def test_expired_token_is_refused(shop: Shop, session: RefreshToken,
                                  new_id: Callable[[], str]) -> None:
    shop.clock.advance(LIFETIME)
    with pytest.raises(AuthenticationFailed):
        rotate(shop, session.jti, new_id)
    assert len(shop.uow.store.refresh_tokens) == 1


def test_token_just_before_expiry_still_rotates(shop: Shop, session: RefreshToken,
                                                new_id: Callable[[], str]) -> None:
    shop.clock.advance(LIFETIME - timedelta(seconds=1))
    rotate(shop, session.jti, new_id)


def test_unknown_token_is_refused(shop: Shop, session: RefreshToken,
                                  new_id: Callable[[], str]) -> None:
    with pytest.raises(AuthenticationFailed):
        rotate(shop, "never-issued", new_id)


def test_token_of_a_vanished_user_is_refused(shop: Shop, session: RefreshToken,
                                             new_id: Callable[[], str]) -> None:
    del shop.uow.store.users[session.user_id]
    with pytest.raises(AuthenticationFailed):
        rotate(shop, session.jti, new_id)
