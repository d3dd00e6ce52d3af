"""Registering, signing in, profiles and refresh-token rotation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from attrs import frozen

from shop_core.accounts import (
    RefreshToken,
    User,
    email_errors,
    name_errors,
    normalize_email,
    normalize_phone,
    password_errors,
    phone_errors,
    username_errors,
)
from shop_core.errors import (
    AlreadyExists,
    AuthenticationFailed,
    NotFound,
    Rule,
    ValidationError,
    Violation,
)
from shop_core.ports import Clock, PasswordHasher, UnitOfWork

_TAKEN = Violation(Rule.TAKEN)


@frozen
class Registration:
    username: str
    email: str
    password: str
    first_name: str = ""
    last_name: str = ""
    is_staff: bool = False
    phone_number: str | None = None


def register(uow: UnitOfWork, hasher: PasswordHasher, clock: Clock,
             registration: Registration) -> User:
    """Create a user after checking every registration rule; the password is stored hashed."""
    email = normalize_email(registration.email)
    phone = normalize_phone(registration.phone_number or "")
    errors = {
        "username": username_errors(registration.username),
        "email": email_errors(email),
        "password": password_errors(registration.password, registration.username),
        "first_name": name_errors(registration.first_name),
        "last_name": name_errors(registration.last_name),
        "phone_number": phone_errors(phone),
    }
    with uow:
        if not errors["username"] and uow.users.get_by_username(registration.username):
            errors["username"].append(_TAKEN)
        if not errors["email"] and uow.users.get_by_email(email):
            errors["email"].append(_TAKEN)
    _raise_if_any(errors)
    # Hashing is slow on purpose, so it runs outside any transaction (whose locks it would
    # hold); the unique constraints catch a registration that raced in meanwhile.
    password_hash = hasher.hash(registration.password)
    with uow:
        user = User(
            id=None, username=registration.username, email=email,
            first_name=registration.first_name, last_name=registration.last_name,
            is_staff=registration.is_staff, password_hash=password_hash,
            date_joined=clock.now(), phone_number=phone,
        )
        try:
            user = uow.users.add(user)
            uow.commit()
        except AlreadyExists as taken:  # lost a race with a concurrent registration
            raise ValidationError({taken.field: [_TAKEN]}) from None
    return user


def authenticate(uow: UnitOfWork, hasher: PasswordHasher, username: str, password: str) -> User:
    """The user these credentials belong to; `AuthenticationFailed` otherwise."""
    with uow:
        user = uow.users.get_by_username(username)
    if user is None:
        # Hash anyway so that an unknown username takes as long as a wrong password.
        hasher.verify(_UNKNOWN_USER_HASH.get(hasher), password)
        raise AuthenticationFailed("No active account found with the given credentials.")
    if not hasher.verify(user.password_hash, password):
        raise AuthenticationFailed("No active account found with the given credentials.")
    return user


class _DummyHashes:
    """One throwaway hash per hasher, made on first use, to verify unknown users against."""

    def __init__(self) -> None:
        self._hashes: dict[int, str] = {}

    def get(self, hasher: PasswordHasher) -> str:
        key = id(hasher)
        if key not in self._hashes:
            self._hashes[key] = hasher.hash("not a real password, only for timing")
        return self._hashes[key]


_UNKNOWN_USER_HASH = _DummyHashes()


def get_user(uow: UnitOfWork, user_id: int) -> User:
    with uow:
        user = uow.users.get(user_id)
    if user is None:
        raise NotFound("User not found.")
    return user


@frozen
class ProfileChanges:
    """Fields to change; None leaves a field as it is (an empty `phone_number` removes it)."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone_number: str | None = None


def update_profile(uow: UnitOfWork, user_id: int, changes: ProfileChanges) -> User:
    """Change a user's email, names and phone. Username and staff flag are not changed here."""
    with uow:
        user = uow.users.get(user_id)
        if user is None:
            raise NotFound("User not found.")
        errors: dict[str, list[Violation]] = {}
        if changes.email is not None:
            email = normalize_email(changes.email)
            errors["email"] = email_errors(email)
            other = uow.users.get_by_email(email) if not errors["email"] else None
            if other is not None and other.id != user.id:
                errors["email"].append(_TAKEN)
            user.email = email
        for name in ("first_name", "last_name"):
            value = getattr(changes, name)
            if value is not None:
                errors[name] = name_errors(value)
                setattr(user, name, value)
        if changes.phone_number is not None:
            user.phone_number = normalize_phone(changes.phone_number)
            errors["phone_number"] = phone_errors(user.phone_number)
        _raise_if_any(errors)
        try:
            uow.users.update(user)
            uow.commit()
        except AlreadyExists as taken:
            raise ValidationError({taken.field: [_TAKEN]}) from None
    return user


def start_session(uow: UnitOfWork, clock: Clock, user_id: int, lifetime: timedelta,
                  new_id: Callable[[], str]) -> RefreshToken:
    """Issue the first refresh token of a new family, after a successful sign-in."""
    token = RefreshToken(jti=new_id(), user_id=user_id, family_id=new_id(),
                         expires_at=clock.now() + lifetime)
    with uow:
        uow.refresh_tokens.add(token)
        uow.commit()
    return token


def rotate_refresh_token(uow: UnitOfWork, clock: Clock, jti: str, lifetime: timedelta,
                         new_id: Callable[[], str]) -> tuple[User, RefreshToken]:
    """Exchange a refresh token for a new one of the same family. A token presented twice
    means it leaked: the whole family is revoked and the caller must sign in again."""
    now = clock.now()
    with uow:
        presented = uow.refresh_tokens.get(jti)
        if presented is None or presented.expires_at <= now:
            raise AuthenticationFailed("Token is invalid or expired.")
        user = uow.users.get(presented.user_id)
        if user is None:
            raise AuthenticationFailed("Token is invalid or expired.")
        if presented.revoked_at is not None or not uow.refresh_tokens.revoke(jti, now):
            uow.refresh_tokens.revoke_family(presented.family_id, now)
            uow.commit()
            raise AuthenticationFailed("Token has been revoked.")
        successor = RefreshToken(jti=new_id(), user_id=user.id or 0,
                                 family_id=presented.family_id, expires_at=now + lifetime)
        uow.refresh_tokens.add(successor)
        uow.commit()
    return user, successor


def _raise_if_any(errors: dict[str, list[Violation]]) -> None:
    found = {name: messages for name, messages in errors.items() if messages}
    if found:
        raise ValidationError(found)
