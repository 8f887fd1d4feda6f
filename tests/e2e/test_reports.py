"""A manager opens the reports page (French, then Arabic) on a branch with four weeks of
history and a few tickets today; the tables show the seeded numbers, the charts draw,
the workbook downloads. Real server (run.py), real Chromium, 1366x768 (a laptop).
Screenshots in var/artifacts/reports-*.png."""
from __future__ import annotations

import io
import sqlite3
from datetime import date, timedelta

import requests
from openpyxl import load_workbook

from bench.reports import generate_history
import pytest

from support.app import ADMIN_PASSWORD
from support.server import ServerProcess


@pytest.fixture
def quiet_server(tmp_path):
    """A server without its printer agent: the history below is written straight into
    its database, and nothing else may add events meanwhile (their ids would clash)."""
    server = ServerProcess(f"sqlite:///{tmp_path / 'tabour.sqlite'}", tmp_path / "server.log",
                           ADMIN_PASSWORD, TABOUR_VAR_DIR=str(tmp_path / "var"),
                           TABOUR_AGENT="0").start()
    yield server
    server.stop()

MANAGER = ("salma", "manager-pass-123")
DAYS = 28


def _seed(server) -> dict:
    admin = requests.Session()
    admin.headers["Authorization"] = "Bearer " + server.token()
    url = server.url + "/api/v1"

    def post(path, body=None):
        r = admin.post(url + path, json=body or {}, timeout=10)
        assert r.status_code < 400, r.text
        return r.json() if r.status_code != 204 else None
    post("/users", {"username": MANAGER[0], "password": MANAGER[1], "role": "manager",
                    "display_name": "Salma"})
    today = date.fromisoformat(post("/tickets", {"service": "A", "language": "fr"})["day"])
    post("/tickets", {"service": "B", "language": "ar"})
    post("/counters/1/open")
    post("/counters/1/call-next")
    post("/counters/1/start")
    post("/counters/1/finish", {"outcome": "served"})
    db = server.env["TABOUR_DATABASE_URL"]
    first = today - timedelta(days=DAYS - 1)
    generate_history(db, 1, first, today - timedelta(days=1), per_day=380, seed=11,
                     printed_from=today - timedelta(days=10))
    with sqlite3.connect(db.split("///", 1)[1]) as conn:
        by_service = dict(conn.execute(
            "SELECT s.prefix, COUNT(*) FROM tickets t JOIN services s ON s.id = "
            "(SELECT e.service_id FROM events e WHERE e.ticket_id = t.id AND "
            " e.type = 'ticket_issued') WHERE t.day >= ? GROUP BY s.prefix",
            (first.isoformat(),)).fetchall())
        served = conn.execute("SELECT COUNT(*) FROM tickets WHERE status = 'done' AND day >= ?",
                              (first.isoformat(),)).fetchone()[0]
    return {"today": today, "first": first, "by_service": by_service, "served": served}


def _open(page, server, seed, lang):
    page.goto(f"{server.url}/dashboard/reports?lang={lang}")
    if page.is_visible("#login-form"):
        page.fill("#username", MANAGER[0])
        page.fill("#password", MANAGER[1])
        page.click("#login-submit")
    page.wait_for_function("window.tabourReports && window.tabourReports.loaded >= 1")
    page.fill("#from", seed["first"].isoformat())
    page.fill("#to", seed["today"].isoformat())
    page.select_option("#grain", "day")
    loaded = page.evaluate("window.tabourReports.loaded")
    page.click("#show")
    page.wait_for_function(f"window.tabourReports.loaded > {loaded}")
    page.wait_for_selector("#chart-heatmap svg")
    return page.evaluate("window.tabourReports.report")


def _cells(page, col: str) -> dict:
    return page.evaluate(f"""() => Object.fromEntries(Array.from(
        document.querySelectorAll('#table tbody tr')).map(tr => [tr.dataset.key,
        tr.querySelector('td[data-col="{col}"]').dataset.value]))""")


def test_manager_reads_the_reports_in_french_and_arabic(quiet_server, browser, artifacts):
    live_server = quiet_server
    seed = _seed(live_server)
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    page = ctx.new_page()
    try:
        # --- French -------------------------------------------------------------------------
        rep = _open(page, live_server, seed, "fr")
        assert page.evaluate("document.documentElement.dir") == "ltr"
        assert rep["percentiles"] == "exact_nearest_rank" and rep["days"] == DAYS
        assert rep["printed"]["status"] == "ok"
        arrivals = {k: int(v) for k, v in _cells(page, "arrivals").items() if k != "total"}
        assert arrivals == seed["by_service"]          # counted straight from the database
        assert int(_cells(page, "served")["total"]) == seed["served"]
        waits = _cells(page, "wait_mean_min")
        for row in rep["breakdowns"]["service"]:       # the page shows the server's figures
            assert float(waits[row["key"]]) == row["wait_mean_min"]
        a_wait = page.text_content('#table tr[data-key="A"] td[data-col="wait_mean_min"]')
        assert a_wait == f"{rep['breakdowns']['service'][0]['wait_mean_min']:.1f}".replace(".", ",")
        assert page.text_content("#kpi-arrivals").replace("\u202f", " ").replace(" ", "") == \
            str(sum(seed["by_service"].values()))
        assert "A · Allocations familiales" in page.inner_text("#chart-arrivals")  # legend
        page.screenshot(path=str(artifacts / "reports-fr.png"))       # what a laptop shows
        page.screenshot(path=str(artifacts / "reports-fr-full.png"), full_page=True)
        page.click('[data-tab="counter"]')
        assert page.locator("#table tbody tr").count() >= 1
        page.click('[data-tab="service"]')

        with page.expect_download(timeout=60000) as dl:
            page.click('[data-export="report.xlsx"]')
        path = dl.value.path()
        wb = load_workbook(io.BytesIO(open(path, "rb").read()))
        assert dl.value.suggested_filename.endswith("-report.xlsx")
        ws = wb[wb.sheetnames[3]]                     # Services, in French: "Services"
        rows = list(ws.values)
        assert {r[0]: r[3] for r in rows[1:]} == seed["by_service"]

        # --- Arabic: the same session (sessionStorage), right to left -------------------------
        rep_ar = _open(page, live_server, seed, "ar")
        assert page.evaluate("document.documentElement.dir") == "rtl"
        assert rep_ar["totals"] == rep["totals"]
        assert {k: int(v) for k, v in _cells(page, "arrivals").items() if k != "total"} == \
            seed["by_service"]
        assert "A · التعويضات العائلية" in page.inner_text("#chart-arrivals")
        assert page.text_content('#table thead th[data-col="arrivals"]') == "الوافدون"
        # the table reads right to left: the first column (the service) is on the right
        first = page.locator("#table thead th").first.bounding_box()
        last = page.locator("#table thead th").last.bounding_box()
        assert first["x"] > last["x"]
        # the charts mirror: the earliest hour on the right of the x axis
        labels = page.evaluate("""() => Array.from(document.querySelectorAll(
            '#chart-load svg text')).filter(t => /^\\d\\d:00$/.test(t.textContent)).map(
            t => [t.textContent, t.getBoundingClientRect().x])""")
        xs = dict(labels)
        assert xs["09:00"] > xs["15:00"], labels
        page.screenshot(path=str(artifacts / "reports-ar.png"))
        page.screenshot(path=str(artifacts / "reports-ar-full.png"), full_page=True)
    finally:
        ctx.close()


def test_an_agent_is_sent_back_to_sign_in(live_server, browser):
    admin = requests.Session()
    admin.headers["Authorization"] = "Bearer " + live_server.token()
    admin.post(live_server.url + "/api/v1/users", json={
        "username": "amina", "password": "agent-pass-123", "role": "agent"}, timeout=10)
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    page = ctx.new_page()
    try:
        page.goto(live_server.url + "/dashboard/reports?lang=en")
        page.fill("#username", "amina")
        page.fill("#password", "agent-pass-123")
        page.click("#login-submit")
        page.wait_for_selector("#message:not([hidden])")
        assert "managers" in page.text_content("#message")
        assert page.is_visible("#login-form")
    finally:
        ctx.close()
