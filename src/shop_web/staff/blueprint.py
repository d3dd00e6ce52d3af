"""The back-office's one blueprint, under `/staff/`; its pages register on it."""

from __future__ import annotations

from flask import Blueprint

from shop_web.schemas.fields import MAX_ID

blueprint = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates",
                      static_folder="static")

# An id in a page's address: a number the id columns can hold (a larger one is 404, never a
# database error).
ID = f"int(min=1, max={MAX_ID})"
