"""The back-office's one blueprint, under `/staff/`; its pages register on it."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates",
                      static_folder="static")
