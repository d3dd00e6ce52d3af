"""Users, their credentials and refresh-token sessions, and the registration rules."""

from __future__ import annotations

import re
from datetime import datetime

from attrs import define, frozen

USERNAME_MAX_LENGTH = 150
NAME_MAX_LENGTH = 150
EMAIL_MAX_LENGTH = 254
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128

_USERNAME = re.compile(r"^[\w.@+-]+$")
# Deliberately modest: one @, a dotted domain, no spaces. Delivery is the real test.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@define
class User:
    """Someone who can sign in. Staff users administer the catalogue and see every order."""

    id: int | None
    username: str
    email: str
    first_name: str
    last_name: str
    is_staff: bool
    password_hash: str
    date_joined: datetime


@frozen
class RefreshToken:
    """One refresh token of a sign-in session. Rotation keeps the `family_id` and revokes the
    presented token; presenting a revoked one revokes the whole family."""

    jti: str
    user_id: int
    family_id: str
    expires_at: datetime
    revoked_at: datetime | None = None


def username_errors(username: str) -> list[str]:
    if not username:
        return ["This field may not be blank."]
    if len(username) > USERNAME_MAX_LENGTH:
        return [f"Ensure this field has no more than {USERNAME_MAX_LENGTH} characters."]
    if not _USERNAME.match(username):
        return ["Enter a valid username: letters, digits and @/./+/-/_ only."]
    return []


def email_errors(email: str) -> list[str]:
    if not email:
        return ["This field may not be blank."]
    if len(email) > EMAIL_MAX_LENGTH or not _EMAIL.match(email):
        return ["Enter a valid email address."]
    return []


def name_errors(name: str) -> list[str]:
    if len(name) > NAME_MAX_LENGTH:
        return [f"Ensure this field has no more than {NAME_MAX_LENGTH} characters."]
    return []


def password_errors(password: str, username: str) -> list[str]:
    """Why `password` is too weak for `username`; empty when it is acceptable."""
    errors = []
    if len(password) < PASSWORD_MIN_LENGTH:
        errors.append(f"This password is too short. It must contain at least "
                      f"{PASSWORD_MIN_LENGTH} characters.")
    if len(password) > PASSWORD_MAX_LENGTH:
        errors.append(f"Ensure this field has no more than {PASSWORD_MAX_LENGTH} characters.")
    if password.isdigit():
        errors.append("This password is entirely numeric.")
    if username and password.casefold() == username.casefold():
        errors.append("The password is too similar to the username.")
    return errors


def normalize_email(email: str) -> str:
    """Emails compare case-insensitively in the domain part and, in practice, everywhere."""
    return email.strip().lower()
