"""/admin/: one page; its strings in the page's language."""
from __future__ import annotations

from flask import render_template

from . import bp


@bp.get("/")
def page():
    from .strings import page_strings
    return render_template("admin/index.html", strings=page_strings())
