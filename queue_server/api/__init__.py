"""REST API under /api/v1."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import routes  # noqa: E402,F401  (registers the views on bp)
from . import kiosk_routes  # noqa: E402,F401  (kiosks, pairing, printers)
from . import dossier_routes  # noqa: E402,F401  (dossier drop-off and status)
from . import report_routes  # noqa: E402,F401  (reports: JSON, CSV, XLSX, today)
from . import admin_routes  # noqa: E402,F401  (administration: /admin/...)
from . import dashboard_routes  # noqa: E402,F401  (the live dashboard and its alerts)
from . import sync_routes  # noqa: E402,F401  (sites that work offline)
from . import auth_routes  # noqa: E402,F401  (logout, own password, staff sessions)
from . import supervisor_routes  # noqa: E402,F401  (supervisors: the branches of a scope)
