"""Registration, tokens and profiles."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from shop_core.accounts import (
    EMAIL_MAX_LENGTH,
    NAME_MAX_LENGTH,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    USERNAME_MAX_LENGTH,
)
from shop_web.schemas.fields import UtcDateTime

# A password longer than this can never be right; refusing it early avoids hashing megabytes.
_CREDENTIAL_MAX_LENGTH = 1024
# Room for the spaces and dashes people type; the core keeps the E.164 digits.
_PHONE_INPUT_MAX_LENGTH = 32


def _phone() -> fields.String:
    return fields.String(allow_none=True, validate=validate.Length(max=_PHONE_INPUT_MAX_LENGTH),
                         metadata={"example": "+201001234567", "description":
                                   "E.164, optional; spaces and dashes are dropped. Empty or "
                                   "null removes it. Paying by mobile wallet needs it."})


class _Input(Schema):
    class Meta:
        # Like DRF: read-only and unknown fields are ignored, so that a client may send back
        # what it read.
        unknown = EXCLUDE


class RegisterSchema(_Input):
    username = fields.String(required=True, metadata={
        "maxLength": USERNAME_MAX_LENGTH, "pattern": r"^[\w.@+-]+$", "example": "amira"})
    email = fields.String(required=True, metadata={
        "maxLength": EMAIL_MAX_LENGTH, "format": "email", "example": "amira@example.com"})
    password = fields.String(required=True, load_only=True, metadata={
        "minLength": PASSWORD_MIN_LENGTH, "maxLength": PASSWORD_MAX_LENGTH,
        "description": "At least 8 characters, not all digits, not the username."})
    first_name = fields.String(load_default="", metadata={"maxLength": NAME_MAX_LENGTH})
    last_name = fields.String(load_default="", metadata={"maxLength": NAME_MAX_LENGTH})
    phone_number = _phone()


class ProfileSchema(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    email = fields.String(required=True)
    first_name = fields.String(required=True)
    last_name = fields.String(required=True)
    is_staff = fields.Boolean(required=True)
    date_joined = UtcDateTime(required=True)
    phone_number = fields.String(required=True, allow_none=True,
                                 metadata={"example": "+201001234567"})


class ProfilePutSchema(_Input):
    email = fields.String(required=True, metadata={"maxLength": EMAIL_MAX_LENGTH,
                                                   "format": "email"})
    first_name = fields.String(required=True, metadata={"maxLength": NAME_MAX_LENGTH})
    last_name = fields.String(required=True, metadata={"maxLength": NAME_MAX_LENGTH})
    phone_number = _phone()


class ProfilePatchSchema(_Input):
    email = fields.String(metadata={"maxLength": EMAIL_MAX_LENGTH, "format": "email"})
    first_name = fields.String(metadata={"maxLength": NAME_MAX_LENGTH})
    last_name = fields.String(metadata={"maxLength": NAME_MAX_LENGTH})
    phone_number = _phone()


class TokenRequestSchema(_Input):
    username = fields.String(required=True, validate=validate.Length(max=_CREDENTIAL_MAX_LENGTH))
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(max=_CREDENTIAL_MAX_LENGTH))


class RefreshRequestSchema(_Input):
    refresh = fields.String(required=True, validate=validate.Length(max=4096),
                            metadata={"description": "The refresh token last issued."})


class TokenPairSchema(Schema):
    access = fields.String(required=True, metadata={
        "description": "Access token (JWT, HS256) for `Authorization: Bearer`; short-lived."})
    refresh = fields.String(required=True, metadata={
        "description": "Refresh token; single use: each refresh returns a new one."})
