"""Every page under its real Content-Security-Policy in Chromium (issue 12).

Each page (the supervisors' too) is opened in a context that keeps the server's headers (no ``bypass_csp``):
no ``securitypolicyviolation`` event and no CSP message on the console, and the page
works: its scripts ran, its socket connected, what it shows is there. The headers
themselves (CSP, X-Frame-Options, nosniff, Referrer-Policy) are checked on every page
and on an API answer. Screenshots in var/artifacts/csp-*.png.
"""
from __future__ import annotations

import json

import pytest
import requests

from e2e.conftest import ADMIN_PASSWORD, Admin
from queue_server.dossiers import ids

INSURED = "12345678" + ids.luhn_digit("12345678")
# listens before any script of the page runs; a violation is kept with what was refused
WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') +
                    ' at ' + e.sourceFile + ':' + e.lineNumber + ' ' + (e.sample || ''));
});
"""


class Watched:
    """A browser context with the real headers that records every CSP complaint."""

    def __init__(self, browser, artifacts, name, viewport=(1366, 900), token=None, **kw):
        self.ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                       **kw)
        assert not kw.get("bypass_csp")
        self.ctx.add_init_script(WATCH)
        if token:
            self.ctx.add_init_script("sessionStorage.setItem('tabour.console.token', %s);"
                                     % json.dumps(token))
        self.page = self.ctx.new_page()
        self.console: list[str] = []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.name, self.artifacts = name, artifacts
        self.documents: list = []
        self.page.on("response", lambda r: self.documents.append(r)
                     if r.request.resource_type == "document" else None)

    def goto(self, url, status=200):
        response = self.page.goto(url)
        assert response.status == status, (url, response.status)
        headers = response.headers
        csp = headers.get("content-security-policy", "")
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, (url, csp)
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, csp
        assert headers.get("x-frame-options") == "DENY", url
        assert headers.get("x-content-type-options") == "nosniff", url
        assert headers.get("referrer-policy") == "no-referrer", url
        return response

    def problems(self) -> list[str]:
        found = [f"{self.name}: {v}" for v in self.page.evaluate("window.__csp || []")]
        found += [f"{self.name}: console {m}" for m in self.console
                  if "Content Security Policy" in m or "Content-Security-Policy" in m
                  or m.startswith("pageerror")]
        return found

    def close(self) -> list[str]:
        self.page.wait_for_timeout(100)  # a late violation (an image, a style) is reported
        found = self.problems()
        self.page.screenshot(path=str(self.artifacts / f"csp-{self.name}.png"))
        self.ctx.close()
        return found


def _one(browser, artifacts, name, url, ready, status=200, **kw) -> list[str]:
    w = Watched(browser, artifacts, name, **kw)
    try:
        w.goto(url, status)
        ready(w.page)
    finally:
        problems = w.close()
    return problems


def online(page):
    page.wait_for_function("() => document.documentElement.dataset.connection === 'online'")


@pytest.fixture
def branch(kiosk_server, admin, printer):
    """A branch with an open counter, a ticket printed at a kiosk, a dossier deposited."""
    admin.post("/counters/1/open")
    admin.wait_printer_online()
    kiosk = admin.post("/devices", {"role": "kiosk", "name": "csp"}).json()["token"]
    r = requests.post(kiosk_server.url + "/api/v1/kiosk/tickets", timeout=10,
                      headers={"Authorization": "Bearer " + kiosk},
                      json={"service": "A", "language": "fr", "idempotency_key": "csp-ticket-1"})
    assert r.status_code == 201, r.text
    dossier = admin.post("/dossiers", {"type": "old_age_pension", "insured_number": INSURED,
                                       "language": "fr", "documents": ["claim_form"],
                                       "idempotency_key": "csp-dossier-1", "print": False})
    assert dossier.status_code == 201, dossier.text
    return {"server": kiosk_server, "admin": admin, "ref": r.json()["public_ref"],
            "tracking": dossier.json()["dossier"]["tracking"]}


def test_security_headers_on_an_api_answer_and_an_asset(live_server):
    for path in ("/api/v1/health", "/api/v1/openapi.json", "/favicon.ico",
                 "/vendor/socket.io.min.js", "/api/v1/nothing-here"):
        r = requests.get(live_server.url + path, timeout=10)
        assert r.headers["Content-Security-Policy"].startswith("default-src 'none'"), path
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"


def test_visitor_pages_under_the_csp(branch, browser, artifacts):
    server, admin = branch["server"], branch["admin"]
    problems = []

    def kiosk_pairs_and_prints(page):
        page.wait_for_selector("#pairing:not([hidden])")
        code = admin.post("/kiosk/pairing-codes", {"kiosk_name": "csp"}).json()["code"]
        page.fill("#pairing-code", code)
        page.click("#pairing-form button")
        page.wait_for_selector("#languages:not([hidden])")
        page.click('.lang-button[data-lang="fr"]')
        page.click('.service[data-prefix="A"]')
        page.wait_for_selector("#ticket-screen:not([hidden])")
        page.wait_for_function("() => document.getElementById('ticket-qr').naturalWidth > 0")

    problems += _one(browser, artifacts, "kiosk", server.url + "/kiosk/",
                     kiosk_pairs_and_prints, viewport=(1080, 1920))

    problems += _one(browser, artifacts, "phone-ticket", f"{server.url}/t/{branch['ref']}?lang=fr",
                     online, viewport=(390, 844), is_mobile=True)
    problems += _one(browser, artifacts, "phone-dossier",
                     f"{server.url}/d/{branch['tracking']}?lang=ar", online,
                     viewport=(390, 844), is_mobile=True)

    for name, path in (("phone-ticket-missing", "/t/nope?lang=fr"),
                       ("phone-dossier-missing", "/d/2345-6789?lang=ar")):
        problems += _one(browser, artifacts, name, server.url + path,
                         lambda p: p.wait_for_selector("h1"), status=404,
                         viewport=(390, 844), is_mobile=True)

    display = admin.post("/devices", {"role": "display", "name": "csp"}).json()["token"]

    def display_shows_a_call(page):
        online(page)
        admin.post("/tickets", {"service": "A", "language": "fr"})
        admin.post("/counters/1/call-next")
        page.wait_for_function("() => window.tabourDisplay.shown.length >= 1")
        # the call is announced: its audio (same origin) plays under media-src 'self'
        page.wait_for_function("() => window.tabourDisplay.played.length >= 1")
    problems += _one(browser, artifacts, "display-pairing", server.url + "/display/",
                     lambda p: p.wait_for_selector("#pairing:not([hidden])"),
                     viewport=(1920, 1080))
    problems += _one(browser, artifacts, "display", f"{server.url}/display/#token={display}",
                     display_shows_a_call, viewport=(1920, 1080))
    assert not problems, "\n".join(problems)


def test_staff_pages_under_the_csp(branch, browser, artifacts):
    server = branch["server"]
    token = server.token()
    problems = []

    def signs_in(page):  # the staff sign-in form, typed as a person does
        page.wait_for_selector("#login-view:not([hidden])")
        page.fill("#username", "admin")
        page.fill("#password", ADMIN_PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector('#counter-list button[data-counter="1"]')
    problems += _one(browser, artifacts, "login-console", server.url + "/console/?lang=fr",
                     signs_in)

    def console(page):
        page.evaluate("localStorage.setItem('tabour.console.counter', '1')")
        page.reload()
        online(page)
        page.wait_for_selector('[data-action="next"]')
    problems += _one(browser, artifacts, "console", server.url + "/console/?lang=ar", console,
                     token=token)

    def backoffice(page):
        page.wait_for_selector("#list tbody tr")
        page.click("#list tbody tr")
        page.wait_for_selector("#detail:not([hidden])")
    problems += _one(browser, artifacts, "backoffice", server.url + "/backoffice/?lang=fr",
                     backoffice, token=token)

    def dashboard(page):
        page.wait_for_function("() => window.tabourDashboard && window.tabourDashboard.today >= 1")
        page.wait_for_selector('#services tr[data-prefix="A"]')
        # the arrivals' bars are sized through the style object, allowed by the policy
        heights = page.eval_on_selector_all(".spark .bar", "bs => bs.map(b => b.style.height)")
        assert all(h.endswith("%") for h in heights), heights
    problems += _one(browser, artifacts, "dashboard", server.url + "/dashboard/?lang=fr",
                     dashboard, token=token)

    def reports(page):
        page.wait_for_selector("#chart-heatmap svg")
        page.wait_for_selector("#chart-arrivals svg")
    problems += _one(browser, artifacts, "reports", server.url + "/dashboard/reports?lang=ar",
                     reports, token=token)

    def admin_page(page):
        page.fill("#username", "admin")
        page.fill("#password", ADMIN_PASSWORD)
        page.click("#login-submit")
        page.wait_for_function("() => window.tabourAdmin && window.tabourAdmin.loaded >= 1")
        page.wait_for_selector("#services tbody tr")
    problems += _one(browser, artifacts, "admin", server.url + "/admin/?lang=fr#services",
                     admin_page)

    made = branch["admin"].post("/admin/users", {"username": "sara", "role": "supervisor",
                                                 "password": "supervisor-pass-1",
                                                 "scope": {"national": True}})
    assert made.status_code == 201, made.text

    def supervisor(page):
        page.fill("#username", "sara")
        page.fill("#password", "supervisor-pass-1")
        page.click("#login-submit")
        page.wait_for_function("() => window.tabourSupervisor && "
                               "window.tabourSupervisor.snapshots >= 1")
    problems += _one(browser, artifacts, "supervisor", server.url + "/supervisor/?lang=fr",
                     supervisor)

    def api_docs(page):
        page.wait_for_selector(".opblock", timeout=15000)
        page.click(".opblock-summary")  # Swagger UI's own scripts answer a click
        page.wait_for_selector(".opblock-body")
    problems += _one(browser, artifacts, "api-docs", server.url + "/api/v1/docs", api_docs)
    assert not problems, "\n".join(problems)


def test_an_inline_script_or_style_would_be_refused(live_server, browser, artifacts):
    """The watcher is not blind: a script, an event handler and a style attribute injected
    into a page are refused and reported."""
    w = Watched(browser, artifacts, "injected")
    try:
        w.goto(live_server.url + "/console/")
        w.page.evaluate("""() => { const s = document.createElement('script');
            s.textContent = 'window.injected = 1'; document.body.appendChild(s);
            const d = document.createElement('div');
            d.innerHTML = '<img src="/favicon.ico" onload="window.injected = 2">' +
                          '<span style="color: red">x</span>';
            document.body.appendChild(d); }""")
        w.page.wait_for_function("() => window.__csp.length >= 3")
        assert w.page.evaluate("window.injected") is None
    finally:
        found = w.close()
    assert sum("script-src" in p for p in found) >= 2, found
    assert any("style-src" in p for p in found), found
