"""The SQL repositories of the core's ports: users and their refresh tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from attrs import evolve
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from shop_adapters.sqlalchemy.repositories.base import Repository
from shop_adapters.sqlalchemy.tables import (
    refresh_tokens,
    users,
)
from shop_core.accounts import RefreshToken, User
from shop_core.errors import AlreadyExists


def _user(row: Row[Any]) -> User:
    return User(id=row.id, username=row.username, email=row.email, first_name=row.first_name,
                last_name=row.last_name, is_staff=row.is_staff,
                password_hash=row.password_hash, date_joined=row.date_joined,
                phone_number=row.phone_number)


# The statements a request runs, built once: building a statement and its cache key on
# every call cost more CPU than SQLAlchemy's execution of it (see `PageStatements`).
_USER_BY = {column.name: sa.select(users).where(column == sa.bindparam("value"))
            for column in (users.c.id, users.c.username, users.c.email)}


class SqlUserRepository(Repository):
    def add(self, user: User) -> User:
        email = user.email.lower()
        values = {
            "username": user.username, "email": email,
            "first_name": user.first_name, "last_name": user.last_name,
            "is_staff": user.is_staff, "password_hash": user.password_hash,
            "date_joined": user.date_joined, "phone_number": user.phone_number,
        }
        with self._unique_violations():
            user_id = self._conn.execute(
                users.insert().values(**values).returning(users.c.id)).scalar_one()
        return evolve(user, id=user_id, email=email)

    def get(self, user_id: int) -> User | None:
        return self._one("id", user_id)

    def get_by_username(self, username: str) -> User | None:
        return self._one("username", username)

    def get_by_email(self, email: str) -> User | None:
        return self._one("email", email.lower())

    def update(self, user: User) -> None:
        with self._unique_violations():
            self._conn.execute(
                users.update().where(users.c.id == user.id).values(
                    email=user.email.lower(), first_name=user.first_name,
                    last_name=user.last_name, is_staff=user.is_staff,
                    password_hash=user.password_hash, phone_number=user.phone_number,
                ))

    def _one(self, column: str, value: object) -> User | None:
        row = self._conn.execute(_USER_BY[column], {"value": value}).first()
        return _user(row) if row is not None else None

    def _unique_violations(self) -> _UniqueViolations:
        return _UniqueViolations(self._conn)


class _UniqueViolations:
    """Run a write inside a SAVEPOINT and turn a unique violation on users into
    `AlreadyExists(field)`; the savepoint keeps the outer transaction usable afterwards."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._savepoint: sa.engine.NestedTransaction | None = None

    def __enter__(self) -> None:
        self._savepoint = self._connection.begin_nested()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        assert self._savepoint is not None
        if exc is None:
            self._savepoint.commit()
            return
        self._savepoint.rollback()
        if isinstance(exc, IntegrityError):
            # Both dialects name the column in the message: the constraint
            # "uq_users_username" on PostgreSQL, "users.username" on SQLite.
            message = str(exc.orig)
            for field in ("username", "email"):
                if field in message:
                    raise AlreadyExists(field) from exc


def _refresh_token(row: Row[Any]) -> RefreshToken:
    return RefreshToken(jti=row.jti, user_id=row.user_id, family_id=row.family_id,
                        expires_at=row.expires_at, revoked_at=row.revoked_at)


class SqlRefreshTokenRepository(Repository):
    def add(self, token: RefreshToken) -> None:
        self._conn.execute(refresh_tokens.insert().values(
            jti=token.jti, user_id=token.user_id, family_id=token.family_id,
            expires_at=token.expires_at, revoked_at=token.revoked_at))

    def get(self, jti: str) -> RefreshToken | None:
        row = self._conn.execute(
            sa.select(refresh_tokens).where(refresh_tokens.c.jti == jti)).first()
        return _refresh_token(row) if row is not None else None

    def revoke(self, jti: str, now: datetime) -> bool:
        # Conditional, so that of two concurrent rotations of one token only one wins.
        result = self._conn.execute(
            refresh_tokens.update()
            .where(refresh_tokens.c.jti == jti, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now))
        return result.rowcount == 1

    def revoke_family(self, family_id: str, now: datetime) -> None:
        self._conn.execute(
            refresh_tokens.update()
            .where(refresh_tokens.c.family_id == family_id,
                   refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now))
