"""Security headers on every answer of the app: pages, API answers, assets, errors.

Pages (``text/html``) get a Content-Security-Policy that runs only the server's own script
files: no inline script, no inline event handler, no ``eval``, no inline style; data a
page needs is in a ``<script type="application/json">`` block (read, never executed) or
in ``data-`` attributes. Sockets connect to the page's own origin (ws/wss). No page may
be framed (clickjacking), no plugin loads, ``<base>`` cannot point elsewhere. Anything
else (JSON, CSV, an SVG QR code, a script file) gets a policy that allows nothing at all,
so a file opened on its own can run nothing either.

Every answer: ``X-Frame-Options: DENY`` (browsers without frame-ancestors),
``X-Content-Type-Options: nosniff`` (a JSON answer is never taken for a script or a
page), ``Referrer-Policy: no-referrer`` (the phone pages' addresses carry what unlocks
them: they never leave in a Referer), ``Cross-Origin-Opener-Policy: same-origin``.

Checked by tests/e2e/test_csp.py: each page loads in Chromium with these headers and
reports no violation.
"""
from __future__ import annotations

from flask import Flask, request

PAGE_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    # data: images: Swagger UI's stylesheet draws its icons as data: SVG
    "img-src 'self' data:",
    "font-src 'self'",
    "media-src 'self'",  # the wall display's announcements
    "connect-src 'self' {ws}",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def page_policy(host: str | None) -> str:
    """The pages' policy; the Socket.IO websocket goes to the page's own host."""
    ws = f"ws://{host} wss://{host}" if host else ""
    return "; ".join(PAGE_POLICY).format(ws=ws).replace(" ;", ";")


def _apply(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if "Content-Security-Policy" not in response.headers:
        if response.mimetype == "text/html":
            response.headers["Content-Security-Policy"] = page_policy(_host())
        else:
            response.headers["Content-Security-Policy"] = OTHER_POLICY
    return response


def _host() -> str | None:
    """The host the browser used (ProxyFix has applied X-Forwarded-Host when trusted);
    only characters a host may have, so nothing can be smuggled into the header (a
    strange one: 'self' alone, which Chromium also matches to ws/wss)."""
    host = request.host
    if not host or not all(c.isascii() and (c.isalnum() or c in ".-:[]") for c in host):
        return None
    return host


def install(app: Flask) -> None:
    app.after_request(_apply)
