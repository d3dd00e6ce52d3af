"""The signed-in user's own profile."""

from __future__ import annotations

from typing import Any

from shop_core.accounts import User
from shop_core.use_cases.accounts import ProfileChanges, update_profile
from shop_web.api.base import ShopBlueprint
from shop_web.api.caller import require_user, user_id
from shop_web.bootstrap import current_shop
from shop_web.schemas.accounts import ProfilePatchSchema, ProfilePutSchema, ProfileSchema

blueprint = ShopBlueprint("profile", __name__, url_prefix="/api/v1",
                          description="The signed-in user's profile.")


@blueprint.route("/profile/", methods=["GET"], operation_id="getProfile")
@blueprint.signed_in()
@blueprint.response(200, ProfileSchema)
def read_profile() -> User:
    return require_user()


@blueprint.route("/profile/", methods=["PUT"], operation_id="replaceProfile")
@blueprint.signed_in()
@blueprint.arguments(ProfilePutSchema)
@blueprint.response(200, ProfileSchema)
def replace_profile(data: dict[str, Any]) -> User:
    """Set email, first and last name (all three), and the phone number when given (absent:
    kept). Username and staff flag never change."""
    return _update(data)


@blueprint.route("/profile/", methods=["PATCH"], operation_id="updateProfile")
@blueprint.signed_in()
@blueprint.arguments(ProfilePatchSchema)
@blueprint.response(200, ProfileSchema)
def patch_profile(data: dict[str, Any]) -> User:
    """Change any of email, first and last name, and phone number."""
    return _update(data)


def _update(data: dict[str, Any]) -> User:
    phone = data.get("phone_number", ...)
    changes = ProfileChanges(email=data.get("email"), first_name=data.get("first_name"),
                             last_name=data.get("last_name"),
                             # null removes the number, as an empty string does
                             phone_number=None if phone is ... else phone or "")
    return update_profile(current_shop().uow(), user_id(require_user()), changes)
