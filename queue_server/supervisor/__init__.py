"""The supervisors' page (/supervisor/): every branch of a supervisor's scope (regions, a
list of branches, or the whole network), worst first, live over Socket.IO (view
"supervisor": a snapshot of roll-up rows on connect, then ``supervisor_rows`` as the
branches change; readmodel/rollup.py keeps the rows, fanout.py sends them). A row opens
that branch's dashboard, read-only (/dashboard/?branch=<code>)."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor", template_folder="templates",
               static_folder="static", static_url_path="/static")


@bp.get("/")
def page():
    from .strings import strings
    return render_template("supervisor/index.html", strings=strings())
