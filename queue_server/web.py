"""Pages and assets shared by every screen: the socket client, vendor files."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, jsonify, send_from_directory

ROOT = Path(__file__).resolve().parent.parent
VENDOR = {
    # served from node_modules, installed by `make setup` (npm ci): no CDN
    "socket.io.min.js": ROOT / "node_modules" / "socket.io-client" / "dist",
    "echarts.min.js": ROOT / "node_modules" / "echarts" / "dist",  # the reports' charts
}

bp = Blueprint("web", __name__, static_folder="static", static_url_path="/static")


@bp.get("/vendor/<name>")
def vendor(name: str):
    folder = VENDOR.get(name)
    if folder is None:
        abort(404)
    if not (folder / name).exists():
        return jsonify({"error": {"code": "not_installed", "message":
                                  f"{name} is not installed: run `make setup` (npm ci)."}}), 500
    return send_from_directory(folder, name, max_age=3600)
