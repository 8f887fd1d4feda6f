"""A regional supervisor in Chromium: signs in on /supervisor/, sees the two branches of
its two regions (one created with run.py create-user --role supervisor --region ...); a
ticket issued in one branch changes its row within one second; the order is worst first
and follows the branches live; a click opens that branch's dashboard, read-only (no
acknowledge button). Real server (run.py, gevent), real Chromium, 1366x900. Screenshots
in Arabic and French: var/artifacts/supervisor-*.png."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import requests

from support.regions import CASA, RABAT, network_config
from support.screens import axe, contrasts, serious
from support.server import ROOT

SUPERVISOR = ("sara", "supervisor-pass-1")
RABAT_MANAGER = ("youssef", "manager-pass-123")


def _run(server, *args):
    env = {**os.environ, "TABOUR_DATABASE_URL": server.env["TABOUR_DATABASE_URL"],
           "TABOUR_CONFIG": server.env["TABOUR_CONFIG"], "TABOUR_VAR_DIR": server.env["TABOUR_VAR_DIR"]}
    r = subprocess.run([sys.executable, str(ROOT / "run.py"), *args], env=env, cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


class Client:
    def __init__(self, server, token):
        self.url = server.url + "/api/v1"
        self.h = {"Authorization": "Bearer " + token}

    def ok(self, method, path, body=None):
        r = requests.request(method, self.url + path, json=body or {}, headers=self.h, timeout=10)
        assert r.status_code < 400, (path, r.status_code, r.text)
        return r.json() if r.status_code != 204 else None


def _page(browser, server, lang):
    # bypass_csp: axe-core is injected (as in test_accessibility.py)
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)
    page = ctx.new_page()
    page.goto(f"{server.url}/supervisor/?lang={lang}")
    page.fill("#username", SUPERVISOR[0])
    page.fill("#password", SUPERVISOR[1])
    page.click("#login-submit")
    page.wait_for_function("window.tabourSupervisor && window.tabourSupervisor.snapshots >= 1")
    return ctx, page


def _within(page, expression: str, seconds: float, started: float) -> float:
    left = max(0.05, seconds - (time.monotonic() - started))
    page.wait_for_function(expression, timeout=left * 1000)
    return time.monotonic() - started


def _cell(page, branch, cls) -> str:
    return page.inner_text(f'#branches tr[data-branch="{branch}"] td.{cls}')


def _order(page) -> list[str]:
    return page.eval_on_selector_all("#branches tbody tr", "rs => rs.map(r => r.dataset.branch)")


def test_a_supervisor_watches_two_branches_live_and_opens_one(browser, make_server, tmp_path,
                                                              artifacts):
    server = make_server(TABOUR_CONFIG=str(network_config(tmp_path)))
    out = _run(server, "create-user", SUPERVISOR[0], "--role", "supervisor", "--region",
               "casa-settat", "--region", "rabat-sale-kenitra", "--password", SUPERVISOR[1])
    assert "supervisor" in out
    _run(server, "create-user", RABAT_MANAGER[0], "--role", "manager", "--branch", RABAT,
         "--password", RABAT_MANAGER[1])
    casa = Client(server, server.token())
    rabat = Client(server, server.token(*RABAT_MANAGER))
    casa.ok("POST", "/counters/1/open")
    rabat.ok("POST", "/counters/1/open")
    rabat.ok("POST", "/counters/2/open")
    for _ in range(3):
        rabat.ok("POST", "/tickets", {"service": "A", "language": "fr"})

    fr_ctx, fr = _page(browser, server, "fr")
    ar_ctx, ar = _page(browser, server, "ar")
    try:
        # both branches, the busy one first
        assert _order(fr) == [RABAT, CASA]
        assert _cell(fr, RABAT, "waiting") == "3" and _cell(fr, CASA, "waiting") == "0"
        assert _cell(fr, RABAT, "open") == "2 / 6" and _cell(fr, CASA, "open") == "1 / 6"
        assert fr.inner_text("#kpi-branches") == "2" and fr.inner_text("#kpi-waiting") == "3"
        assert ar.get_attribute("html", "dir") == "rtl"
        assert "أكدال" in ar.inner_text(f'#branches tr[data-branch="{RABAT}"] th')

        # a ticket issued in casa changes its row within one second (both pages)
        started = time.monotonic()
        casa.ok("POST", "/tickets", {"service": "B", "language": "fr"})
        took = _within(fr, f"document.querySelector('#branches tr[data-branch=\"{CASA}\"] "
                           "td.waiting').textContent === '1'", 1.0, started)
        _within(ar, f"document.querySelector('#branches tr[data-branch=\"{CASA}\"] "
                    "td.waiting').textContent === '1'", 1.0, started)
        print(f"ticket -> supervisor row: {took * 1000:.0f} ms")
        assert fr.inner_text("#kpi-waiting") == "4"

        # rabat's queue is served: casa (one waiting) becomes the worst, the order follows
        for _ in range(3):
            for n in (1, 2):
                r = requests.post(rabat.url + f"/counters/{n}/call-next", headers=rabat.h,
                                  json={}, timeout=10)
                if r.status_code == 200:
                    rabat.ok("POST", f"/counters/{n}/start")
                    rabat.ok("POST", f"/counters/{n}/finish", {"outcome": "served"})
        fr.wait_for_function(f"window.tabourSupervisor.order[0] === '{CASA}'", timeout=3000)
        assert _order(fr) == [CASA, RABAT]
        fr.wait_for_function(f"document.querySelector('#branches tr[data-branch=\"{RABAT}\"] "
                             "td.served').textContent === '3'", timeout=3000)
        assert _cell(fr, RABAT, "waiting") == "0"
        ar.wait_for_function(f"window.tabourSupervisor.order[0] === '{CASA}'", timeout=3000)

        ar.screenshot(path=str(artifacts / "supervisor-ar.png"), full_page=True)
        fr.screenshot(path=str(artifacts / "supervisor-fr.png"), full_page=True)
        for page in (ar, fr):  # accessible: no serious axe finding, buttons at 4.5:1
            assert serious(axe(page)) == []
            assert [c for c in contrasts(page, "button, .langs a") if c["ratio"] < 4.5] == []

        # a click on a row opens that branch's dashboard, read-only
        fr.click(f'#branches tr[data-branch="{RABAT}"] td.waiting')
        fr.wait_for_url(f"**/dashboard/?branch={RABAT}")
        fr.wait_for_function("window.tabourDashboard && window.tabourDashboard.live >= 1")
        assert fr.get_attribute("html", "data-readonly") == "true"
        assert "Agdal" in fr.inner_text("#branch-name")
        assert fr.inner_text('#services tr[data-prefix="A"] td.waiting') == "0"
        assert fr.locator("button.ack").count() == 0
        fr.screenshot(path=str(artifacts / "supervisor-dashboard-fr.png"), full_page=True)
    finally:
        fr_ctx.close()
        ar_ctx.close()


def test_an_admin_creates_a_supervisor_at_admin(browser, make_server, tmp_path, artifacts):
    """/admin/ (users): the supervisor role shows what it watches; the account made
    watches that region only."""
    from .conftest import ADMIN_PASSWORD
    server = make_server(TABOUR_CONFIG=str(network_config(tmp_path)))
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    try:
        page.goto(f"{server.url}/admin/?lang=fr#users")
        page.fill("#username", "admin")
        page.fill("#password", ADMIN_PASSWORD)
        page.click("#login-submit")
        page.wait_for_function("window.tabourAdmin && window.tabourAdmin.loaded >= 1")
        page.click('[data-tab="users"]')
        assert not page.is_visible("#new-scope-kind")
        page.fill("#new-username", "rachid")
        page.select_option("#new-role", "supervisor")
        assert page.is_visible("#new-scope-kind") and page.is_visible("#new-scope-codes")
        page.select_option("#new-scope-kind", "regions")
        page.fill("#new-scope-codes", "rabat-sale-kenitra")
        page.fill("#new-password", "password-123")
        page.click("#user-form button[type=submit]")
        page.wait_for_selector('#users tr[data-user="rachid"]')
        assert "Superviseur" in page.inner_text('#users tr[data-user="rachid"]')
        page.screenshot(path=str(artifacts / "supervisor-admin-fr.png"), full_page=True)
    finally:
        ctx.close()
    h = {"Authorization": "Bearer " + server.token("rachid", "password-123")}
    rows = requests.get(server.url + "/api/v1/supervisor", headers=h, timeout=10).json()["rows"]
    assert [r["branch"] for r in rows] == [RABAT]
