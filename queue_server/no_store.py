"""``Cache-Control: no-store`` on every answer that may hold personal data (issue 12):
every /api/ answer, the visitors' phone pages (/d/<tracking>, /t/<ref>, the dossier's QR
code) and the staff pages (console, back office, dashboard, administration). A shared
PC's browser, a proxy or the back button then keeps no copy of an insured number, a
dossier's status or a staff list. Static files (scripts, styles, fonts, audio) keep
their own caching."""
from __future__ import annotations

PERSONAL_PREFIXES = ("/api/", "/d/", "/t/", "/console", "/backoffice", "/dashboard",
                     "/admin")


def personal(path: str) -> bool:
    if "/static/" in path:
        return False
    return path.startswith(PERSONAL_PREFIXES)


def install(app) -> None:
    @app.after_request
    def no_store(response):
        from flask import request
        if personal(request.path):
            response.headers["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
            response.headers["Pragma"] = "no-cache"  # HTTP/1.0 caches
        return response
