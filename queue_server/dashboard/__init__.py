"""The managers' dashboard: the live board (/dashboard/) and the reports page
(/dashboard/reports).

A normal blueprint with its own templates and static files. The pages read from
/api/v1 and Socket.IO (view "dashboard") with the staff token the console keeps in
sessionStorage (one sign-in per tab, gone when the tab closes). ``live.py`` pushes
the board's pictures and watches the alerts, off the request path.
"""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="templates",
               static_folder="static", static_url_path="/static")


@bp.get("/")
def live_page():
    from .strings import live_strings
    return render_template("dashboard/live.html", strings=live_strings())


@bp.get("/reports")
def reports_page():
    from ..reports import EXACT_DAYS, HOUR_GRAIN_MAX_DAYS, MAX_DAYS, labels
    from .strings import page_strings
    return render_template("dashboard/reports.html", strings=page_strings(),
                           labels=labels.labels(),
                           notes=labels.notes("exact_nearest_rank", EXACT_DAYS),
                           notes_long=labels.notes("histogram_1min", EXACT_DAYS),
                           limits={"max_days": MAX_DAYS, "hour_days": HOUR_GRAIN_MAX_DAYS,
                                   "exact_days": EXACT_DAYS})
