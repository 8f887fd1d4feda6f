"""The administration pages (/admin/): devices, users, services, counters, display
zones, opening hours. For an administrator, and for a manager within their own
branch where it makes sense (services, counters, hours, agents' accounts). The page
reads and writes through /api/v1/admin/... with the staff token the console keeps
in sessionStorage; the server says what the caller may do (the page copies no rule).
"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates",
               static_folder="static", static_url_path="/static")

from . import views  # noqa: E402,F401
