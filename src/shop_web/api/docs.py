"""The Swagger UI assets for `/api/v1/docs`, served by the shop itself (no CDN)."""

from __future__ import annotations

from flask import Blueprint, Response, send_from_directory
from swagger_ui_bundle import swagger_ui_path

blueprint = Blueprint("docs_assets", __name__, url_prefix="/api/v1/docs/assets")

# The page at /api/v1/docs loads them relative to itself, which survives a SCRIPT_NAME prefix.
ASSETS_URL = "docs/assets/"


@blueprint.route("/<path:filename>")
def asset(filename: str) -> Response:
    response = send_from_directory(swagger_ui_path, filename, max_age=3600)
    return response
