"""The kiosk's dossier drop-off and status lookup (/kiosk/dossier/)."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("kiosk_dossier", __name__, url_prefix="/kiosk/dossier",
               template_folder="templates", static_folder="static",
               static_url_path="/static")


@bp.get("/")
def flow():
    t = current_app.extensions["tabour"]
    from queue_server.backoffice.views import status_texts
    return render_template("kiosk/dossier.html", cfg=t.printing, texts=status_texts())
