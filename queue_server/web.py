"""Pages and assets shared by every screen: the socket client, vendor files, the favicon,
the API documentation page (Swagger UI from npm, served locally)."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, jsonify, render_template, send_from_directory

ROOT = Path(__file__).resolve().parent.parent
VENDOR = {
    # served from node_modules, installed by `make setup` (npm ci): no CDN
    "socket.io.min.js": ROOT / "node_modules" / "socket.io-client" / "dist",
    "echarts.min.js": ROOT / "node_modules" / "echarts" / "dist",  # the reports' charts
    # the API documentation page (/api/v1/docs)
    "swagger-ui-bundle.js": ROOT / "node_modules" / "swagger-ui-dist",
    "swagger-ui.css": ROOT / "node_modules" / "swagger-ui-dist",
}

bp = Blueprint("web", __name__, static_folder="static", static_url_path="/static",
               template_folder="templates")
STATIC = Path(__file__).resolve().parent / "static"


@bp.get("/favicon.ico")
def favicon():
    return send_from_directory(STATIC, "favicon.svg", mimetype="image/svg+xml", max_age=86400)


@bp.get("/api/v1/docs")
def api_docs():
    """The API, readable: Swagger UI over /api/v1/openapi.json (no CDN, no validator)."""
    return render_template("api_docs.html")


@bp.get("/vendor/<name>")
def vendor(name: str):
    folder = VENDOR.get(name)
    if folder is None:
        abort(404)
    if not (folder / name).exists():
        return jsonify({"error": {"code": "not_installed", "message":
                                  f"{name} is not installed: run `make setup` (npm ci)."}}), 500
    return send_from_directory(folder, name, max_age=3600)
