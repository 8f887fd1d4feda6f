"""A manager watches the live dashboard in Chromium (French and Arabic side by side): the
board changes within one second of a kiosk ticket and of a call, numbers asserted; an
alert appears when a target is breached, is acknowledged, and clears when the queue
drains. Real server (run.py, gevent), real Chromium, 1366x900. Screenshots in
var/artifacts/dashboard-*.png."""
from __future__ import annotations

import time
import uuid

import requests

from .conftest import ADMIN_PASSWORD  # noqa: F401  (the live_server fixture's password)

MANAGER = ("salma", "manager-pass-123")


def _api(server):
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + server.token()
    url = server.url + "/api/v1"

    def call(method, path, body=None, token=None, ok=True):
        headers = {"Authorization": "Bearer " + token} if token else {}
        r = s.request(method, url + path, json=body if body is not None else {},
                      headers=headers, timeout=10)
        if ok:
            assert r.status_code < 400, (path, r.status_code, r.text)
        return r
    return call


def _board(browser, server, lang):
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    page.goto(f"{server.url}/dashboard/?lang={lang}")
    page.fill("#username", MANAGER[0])
    page.fill("#password", MANAGER[1])
    page.click("#login-submit")
    page.wait_for_function("window.tabourDashboard && window.tabourDashboard.today >= 1")
    return ctx, page


def _cell(page, prefix, cls) -> str:
    return page.inner_text(f'#services tr[data-prefix="{prefix}"] td.{cls}')


def _within(page, expression: str, seconds: float, started: float) -> float:
    """Wait until ``expression`` holds; fail unless it did within ``seconds`` of ``started``."""
    left = max(0.05, seconds - (time.monotonic() - started))
    page.wait_for_function(expression, timeout=left * 1000)
    return time.monotonic() - started


def test_the_board_follows_the_branch_and_its_alerts(browser, live_server, artifacts):
    api = _api(live_server)
    api("POST", "/users", {"username": MANAGER[0], "password": MANAGER[1], "role": "manager",
                           "display_name": "Salma"})
    kiosk = api("POST", "/devices", {"role": "kiosk", "name": "Entrance"}).json()["token"]
    api("POST", "/counters/1/open")
    api("POST", "/tickets", {"service": "A", "language": "fr"})
    fr_ctx, fr = _board(browser, live_server, "fr")
    ar_ctx, ar = _board(browser, live_server, "ar")
    try:
        assert fr.inner_text("#kpi-issued") == "1"
        assert _cell(fr, "A", "waiting") == "1"
        time.sleep(2.5)  # today's figures were just computed at connect: a quiet spell

        # a kiosk ticket: waiting and issued today move within a second
        started = time.monotonic()
        r = requests.post(live_server.url + "/api/v1/kiosk/tickets", timeout=10,
                          headers={"Authorization": "Bearer " + kiosk},
                          json={"service": "A", "language": "fr",
                                "idempotency_key": uuid.uuid4().hex})
        assert r.status_code == 201, r.text
        code = r.json()["ticket"]["code"]
        took = _within(fr, "document.querySelector('#services tr[data-prefix=\"A\"] "
                           "td.waiting').textContent === '2' && "
                           "document.getElementById('kpi-issued').textContent === '2'",
                       1.0, started)
        assert took < 1.0
        assert fr.inner_text("#kpi-waiting") == "2"
        ar.wait_for_function("document.getElementById('kpi-issued').textContent === '2'",
                             timeout=1000)

        # a call: the counter shows the ticket and the queue shortens within a second
        started = time.monotonic()
        first = api("POST", "/counters/1/call-next").json()["code"]
        took = _within(fr, "document.querySelector('#counters [data-number=\"1\"] .code') && "
                           f"document.querySelector('#counters [data-number=\"1\"] .code')"
                           f".textContent === '{first}' && document.querySelector("
                           "'#services tr[data-prefix=\"A\"] td.waiting').textContent === '1'",
                       1.0, started)
        assert took < 1.0 and first != code
        card = fr.inner_text('#counters [data-number="1"]')
        assert "En service" in card and "appelé" in card and "Administrator" in card
        fr.screenshot(path=str(artifacts / "dashboard-fr.png"), full_page=True)
        ar.wait_for_function("document.querySelector('#counters [data-number=\"1\"] .code')")
        ar.screenshot(path=str(artifacts / "dashboard-ar.png"), full_page=True)

        # a target breached: B at 1 minute, three waiting for one counter
        api("PATCH", "/services/B", {"target_wait_minutes": 1})
        api("POST", "/counters/3/open")
        for _ in range(3):
            api("POST", "/tickets", {"service": "B", "language": "ar"})
        fr.wait_for_selector('#alert-list li.open[data-key="B"]', timeout=15000)
        fr.wait_for_selector('#services tr.breach[data-prefix="B"]', timeout=2000)
        text = fr.inner_text('#alert-list li.open[data-key="B"]')
        assert "Maladie et maternité (B)" in text and "objectif de 1 min" in text
        ar.wait_for_selector('#alert-list li.open[data-key="B"]')
        assert "المرض والأمومة" in ar.inner_text('#alert-list li.open[data-key="B"]')
        fr.screenshot(path=str(artifacts / "dashboard-alert-fr.png"), full_page=True)
        ar.screenshot(path=str(artifacts / "dashboard-alert-ar.png"), full_page=True)

        # acknowledged from the page: both boards say who
        fr.click('#alert-list li.open[data-key="B"] button.ack')
        fr.wait_for_selector('#alert-list li.open[data-key="B"] .acked')
        assert "Pris en compte par Salma" in fr.inner_text('#alert-list li[data-key="B"]')
        ar.wait_for_selector('#alert-list li.open[data-key="B"] .acked')

        # the queue drains: nobody waits for B, its counter is free -> the alert clears
        for _ in range(3):
            api("POST", "/counters/3/call-next")
            api("POST", "/counters/3/start")
            api("POST", "/counters/3/finish", {"outcome": "served"})
        fr.wait_for_function("!document.querySelector('#alert-list li.open[data-key=\"B\"]')",
                             timeout=15000)
        fr.wait_for_selector('#services tr[data-prefix="B"]:not(.breach)', timeout=2000)
        assert "Maladie et maternité" in fr.text_content('#past-list li[data-key="B"]')
        fr.wait_for_function("document.querySelector('#services tr[data-prefix=\"B\"] "
                             "td.served').textContent === '3'", timeout=5000)
        ar.wait_for_function("!document.querySelector('#alert-list li.open[data-key=\"B\"]')")
        fr.screenshot(path=str(artifacts / "dashboard-cleared-fr.png"), full_page=True)
        ar.screenshot(path=str(artifacts / "dashboard-cleared-ar.png"), full_page=True)
        assert ar.evaluate("document.documentElement.dir") == "rtl"
    finally:
        fr_ctx.close()
        ar_ctx.close()


def test_an_agent_is_turned_away_from_the_board(browser, live_server):
    api = _api(live_server)
    api("POST", "/users", {"username": "amine", "password": "agent-pass-123", "role": "agent"})
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(f"{live_server.url}/dashboard/?lang=fr")
    page.fill("#username", "amine")
    page.fill("#password", "agent-pass-123")
    page.click("#login-submit")
    page.wait_for_selector("#message:not([hidden])")
    assert "réservé aux responsables" in page.inner_text("#message")
    assert page.is_visible("#login-form") and not page.is_visible("#board-view")
    ctx.close()
