"""The back office (/backoffice/) and the public dossier status page (/d/<tracking>)."""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("backoffice", __name__, url_prefix="/backoffice", template_folder="templates",
               static_folder="static", static_url_path="/static")
public = Blueprint("dossier_public", __name__, template_folder="templates")


def register(app: Flask) -> None:
    from . import views  # noqa: F401
    app.register_blueprint(bp)
    app.register_blueprint(public)
