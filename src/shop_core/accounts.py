"""Users, their credentials and refresh-token sessions, and the registration rules."""

from __future__ import annotations

import re
from datetime import datetime

from attrs import define, frozen

from shop_core.errors import Rule, Violation

USERNAME_MAX_LENGTH = 150
NAME_MAX_LENGTH = 150
EMAIL_MAX_LENGTH = 254
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128
# E.164: a plus, a country code that never starts with 0, at most 15 digits in all.
PHONE_MAX_LENGTH = 16

_USERNAME = re.compile(r"^[\w.@+-]+$")
# Deliberately modest: one @, a dotted domain, no spaces. Delivery is the real test.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$", re.ASCII)
# What people type between the digits of a phone number, and the shop drops.
_PHONE_SEPARATORS = re.compile(r"[\s().-]")


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
    # E.164 (+201001234567); None until the customer gives one. Wallet payments need it.
    phone_number: str | None = None


@frozen
class RefreshToken:
    """One refresh token of a sign-in session. Rotation keeps the `family_id` and revokes the
    presented token; presenting a revoked one revokes the whole family."""

    jti: str
    user_id: int
    family_id: str
    expires_at: datetime
    revoked_at: datetime | None = None


def username_errors(username: str) -> list[Violation]:
    if not username:
        return [Violation(Rule.BLANK)]
    if len(username) > USERNAME_MAX_LENGTH:
        return [Violation(Rule.TOO_LONG, USERNAME_MAX_LENGTH)]
    if not _USERNAME.match(username):
        return [Violation(Rule.USERNAME_CHARACTERS)]
    return []


def email_errors(email: str) -> list[Violation]:
    if not email:
        return [Violation(Rule.BLANK)]
    if len(email) > EMAIL_MAX_LENGTH or not _EMAIL.match(email):
        return [Violation(Rule.EMAIL_FORMAT)]
    return []


def name_errors(name: str) -> list[Violation]:
    if len(name) > NAME_MAX_LENGTH:
        return [Violation(Rule.TOO_LONG, NAME_MAX_LENGTH)]
    return []


def password_errors(password: str, username: str) -> list[Violation]:
    """Why `password` is too weak for `username`; empty when it is acceptable."""
    errors = []
    if len(password) < PASSWORD_MIN_LENGTH:
        errors.append(Violation(Rule.PASSWORD_TOO_SHORT, PASSWORD_MIN_LENGTH))
    if len(password) > PASSWORD_MAX_LENGTH:
        errors.append(Violation(Rule.TOO_LONG, PASSWORD_MAX_LENGTH))
    if password.isdigit():
        errors.append(Violation(Rule.PASSWORD_NUMERIC))
    if username and password.casefold() == username.casefold():
        errors.append(Violation(Rule.PASSWORD_LIKE_USERNAME))
    return errors


def normalize_phone(phone: str) -> str | None:
    """`phone` without the spaces, dashes, dots and brackets people write in it; None when
    nothing is left (the customer removed their number)."""
    return _PHONE_SEPARATORS.sub("", phone) or None


def phone_errors(phone: str | None) -> list[Violation]:
    """Why a normalized phone number is not E.164; empty when it is (or when there is none)."""
    if phone is None or _E164.match(phone):
        return []
    return [Violation(Rule.PHONE_FORMAT)]


def normalize_email(email: str) -> str:
    """Emails compare case-insensitively in the domain part and, in practice, everywhere."""
    return email.strip().lower()
