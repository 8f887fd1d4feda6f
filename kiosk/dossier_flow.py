"""The kiosk's dossier drop-off and status lookup: /kiosk/dossier/ opens the kiosk page
(one page, see kiosk/__init__.py) on its dossier screen."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("kiosk_dossier", __name__, url_prefix="/kiosk/dossier")


@bp.get("/")
def flow():
    from . import render_kiosk
    return render_kiosk("dossier")
