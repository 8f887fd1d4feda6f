"""A kiosk whose printer agent never comes: after the configured time the job is
"not taken", and the kiosk tells the visitor, in their language, to ask at reception
with their number on the screen (Arabic and French, in Chromium)."""
from __future__ import annotations

import pytest

from e2e.conftest import Admin, paired_kiosk
from support.app import ADMIN_PASSWORD
from support.server import ServerProcess


@pytest.fixture
def server_without_agent(tmp_path):
    server = ServerProcess(f"sqlite:///{tmp_path / 'tabour.sqlite'}", tmp_path / "server.log",
                           ADMIN_PASSWORD, TABOUR_VAR_DIR=str(tmp_path / "var"),
                           TABOUR_AGENT="0", TABOUR_PRINT_TAKE_TIMEOUT_S="2")
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("lang, says", [
    ("ar", "لم تُطبع تذكرتك. أظهر هذا الرقم في الاستقبال"),
    ("fr", "Votre ticket n'a pas été imprimé. Montrez ce numéro à l'accueil"),
])
def test_a_job_nobody_takes_sends_the_visitor_to_reception(server_without_agent, browser,
                                                           artifacts, lang, says):
    admin = Admin(server_without_agent)
    assert admin.post("/counters/1/open").status_code == 200
    ctx, page = paired_kiosk(browser, server_without_agent, admin)
    try:
        page.click(f'.lang-button[data-lang="{lang}"]')
        page.click('.service[data-prefix="A"]')
        page.wait_for_selector("#ticket-screen:not([hidden])")
        code = page.inner_text("#ticket-code")
        # no agent is connected: the banner says so at once; the job still waits
        assert page.locator("#banner").is_visible()
        page.wait_for_function(
            "document.getElementById('print-status').dataset.status === 'failed'",
            timeout=20000)  # the sweep runs every few seconds after the 2 s allowance
        text = page.inner_text("#print-text")
        assert says in text and code in text, text
        page.screenshot(path=str(artifacts / f"kiosk-print-not-taken-{lang}.png"))
        jobs = admin.get("/print-jobs?status=not_taken")["jobs"]
        assert len(jobs) == 1 and "within 2 seconds" in jobs[0]["error"]
    finally:
        ctx.close()
