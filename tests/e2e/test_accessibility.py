"""Accessibility and legibility of every screen, in real Chromium (issue 11).

axe-core (from npm, node_modules/axe-core) is injected by Playwright into contexts that
bypass the pages' Content-Security-Policy (the hardening issue tests the policy itself in
other contexts): 0 critical and 0 serious violations on every screen, the kiosk in both
orientations in Arabic and French. The text of every button and key must reach 4.5:1
against what is behind it, computed here (axe leaves text over colours it cannot resolve as
"incomplete"). Each screen is kept as a screenshot in var/artifacts/a11y-*.png; the results
in var/artifacts/a11y-summary.json.
"""
from __future__ import annotations

import json

import pytest
import requests

from e2e.conftest import ADMIN_PASSWORD, Admin, paired_kiosk
from e2e.test_console_screens import console_at
from queue_server.dossiers import ids
from support.screens import axe, contrasts, serious

INSURED = "12345678" + ids.luhn_digit("12345678")
PORTRAIT, LANDSCAPE = (1080, 1920), (1920, 1080)
BUTTONS = "button, [role=button], .key, a.primary, a.chip, .langs a"
RESULTS: dict = {}


@pytest.fixture(scope="module", autouse=True)
def summary(artifacts):
    yield
    path = artifacts / "a11y-summary.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps(old | RESULTS, ensure_ascii=False, indent=1), encoding="utf-8")


def check(page, name, artifacts, buttons=BUTTONS, full_page=False):
    """axe, the contrast of every button, a screenshot. Returns the problems found."""
    page.wait_for_timeout(150)  # a flash or a transition settles
    found = serious(axe(page))
    low = [c for c in contrasts(page, buttons) if c["ratio"] < 4.5]
    ratios = [c["ratio"] for c in contrasts(page, buttons)]
    page.screenshot(path=str(artifacts / f"a11y-{name}.png"), full_page=full_page)
    RESULTS[name] = {"axe_serious_or_critical": [(v["id"], v["impact"], len(v["nodes"]))
                                                 for v in found],
                     "buttons": len(ratios), "min_button_contrast": min(ratios) if ratios else None,
                     "low_contrast": low[:5]}
    return [f"{name}: axe {v['id']} ({v['impact']}): {v['help']} at {v['nodes'][0]['target']}"
            for v in found] + [f"{name}: contrast {c['ratio']} for {c['text']!r} ({c['fg']} on "
                               f"{c['bg']})" for c in low]


def ctx_of(browser, viewport, **kw):
    return browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                               bypass_csp=True, **kw)


# --- the kiosk --------------------------------------------------------------------------------

def test_kiosk_screens_both_orientations_arabic_and_french(kiosk_server, admin, printer,
                                                          browser, artifacts):
    admin.post("/counters/1/open")
    admin.wait_printer_online()
    problems = []
    # not paired yet: the pairing screen
    ctx = ctx_of(browser, PORTRAIT)
    page = ctx.new_page()
    page.goto(kiosk_server.url + "/kiosk/")
    page.wait_for_selector("#pairing:not([hidden])")
    problems += check(page, "kiosk-pairing-portrait", artifacts)
    ctx.close()

    code = admin.post("/kiosk/pairing-codes", {"kiosk_name": "a11y"}).json()["code"]
    ctx = ctx_of(browser, PORTRAIT)
    page = ctx.new_page()
    page.goto(kiosk_server.url + "/kiosk/")
    page.fill("#pairing-code", code)
    page.click("#pairing-form button")
    page.wait_for_selector("#languages:not([hidden])")
    try:
        for viewport, orient in ((PORTRAIT, "portrait"), (LANDSCAPE, "landscape")):
            page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
            problems += check(page, f"kiosk-start-{orient}", artifacts)
            for lang in ("ar", "fr"):
                tag = f"{lang}-{orient}"
                page.click(f'.lang-button[data-lang="{lang}"]')
                page.wait_for_selector('.service[data-prefix="A"]')
                problems += check(page, f"kiosk-services-{tag}", artifacts)
                page.click('.chip[data-priority="disabled"]')
                page.click('.service[data-prefix="A"]')
                page.wait_for_selector("#ticket-screen:not([hidden])")
                page.wait_for_function("document.getElementById('ticket-qr').naturalWidth > 0")
                problems += check(page, f"kiosk-ticket-{tag}", artifacts)
                page.click("#done")
                page.click(f'.lang-button[data-lang="{lang}"]')
                page.click("#dossier-link")
                page.wait_for_selector('.dossier-type[data-type="sickness"]')
                page.click("#lookup")
                problems += check(page, f"kiosk-dossier-types-{tag}", artifacts)
                page.click('.dossier-type[data-type="sickness"]')
                page.click("#insured")
                problems += check(page, f"kiosk-dossier-numbers-{tag}", artifacts)
                page.fill("#insured", INSURED)
                page.click("#event-date")
                for ch in "01012020":
                    page.click(f'#keypad button[data-key="{ch}"]')
                problems += check(page, f"kiosk-dossier-date-{tag}", artifacts)
                page.click("#ids-next")
                page.wait_for_selector("#step-docs:not([hidden])")
                page.click('label.doc[data-code="claim_form"] input')
                problems += check(page, f"kiosk-dossier-documents-{tag}", artifacts)
                page.click("#docs-next")
                page.wait_for_selector("#step-warn:not([hidden])")
                problems += check(page, f"kiosk-dossier-warning-{tag}", artifacts)
                page.click("#deposit-anyway")
                page.wait_for_selector("#step-done:not([hidden])")
                page.wait_for_function("document.getElementById('d-qr').naturalWidth > 0")
                tracking = page.inner_text("#tracking")
                problems += check(page, f"kiosk-dossier-done-{tag}", artifacts)
                page.click("#d-done")
                page.click(f'.lang-button[data-lang="{lang}"]')
                page.click("#dossier-link")
                page.fill("#lookup", tracking)
                page.click("#lookup-form button[type=submit]")
                page.wait_for_selector("#lookup-result:not([hidden])")
                problems += check(page, f"kiosk-dossier-lookup-{tag}", artifacts)
                page.click("#d-back")
                page.click("#back")
                page.wait_for_selector("#languages:not([hidden])")
    finally:
        ctx.close()
    assert not problems, "\n".join(problems)


# --- the visitor's phone ----------------------------------------------------------------------

def test_phone_pages(kiosk_server, admin, browser, artifacts):
    admin.post("/counters/1/open")
    ctx, kiosk = paired_kiosk(browser, kiosk_server, admin)
    kiosk.click('.lang-button[data-lang="fr"]')
    kiosk.click('.service[data-prefix="A"]')
    kiosk.wait_for_selector("#ticket-screen:not([hidden])")
    ref = kiosk.get_attribute("#ticket-qr", "src").split("?")[0].split("/")[-1][:-4]
    ctx.close()
    deposited = requests.post(kiosk_server.url + "/api/v1/dossiers", timeout=10, json={
        "type": "old_age_pension", "insured_number": INSURED, "language": "ar",
        "documents": ["claim_form"], "idempotency_key": "a11y-dossier-1", "print": False},
        headers=admin.h).json()["dossier"]
    problems = []
    phone = ctx_of(browser, (390, 844), is_mobile=True)
    page = phone.new_page()
    try:
        for lang in ("ar", "fr"):
            page.goto(f"{kiosk_server.url}/t/{ref}?lang={lang}")
            page.wait_for_function("document.documentElement.dataset.connection === 'online'")
            problems += check(page, f"phone-ticket-{lang}", artifacts)
            page.goto(f"{kiosk_server.url}/d/{deposited['tracking']}?lang={lang}")
            page.wait_for_function("document.documentElement.dataset.connection === 'online'")
            problems += check(page, f"phone-dossier-{lang}", artifacts)
            page.goto(f"{kiosk_server.url}/t/nope?lang={lang}")
            problems += check(page, f"phone-ticket-missing-{lang}", artifacts)
            page.goto(f"{kiosk_server.url}/d/2345-6789?lang={lang}")
            problems += check(page, f"phone-dossier-missing-{lang}", artifacts)
    finally:
        phone.close()
    assert not problems, "\n".join(problems)


# --- the wall display -------------------------------------------------------------------------

def test_wall_display(live_server, browser, artifacts):
    admin = Admin(live_server)
    token = admin.post("/devices", {"role": "display", "name": "a11y"}).json()["token"]
    problems = []
    ctx = ctx_of(browser, (1920, 1080))
    page = ctx.new_page()
    try:
        page.goto(f"{live_server.url}/display/")
        page.wait_for_selector("#pairing:not([hidden])")
        problems += check(page, "display-pairing", artifacts)
        page.goto(f"{live_server.url}/display/?zone=nowhere#token={token}")
        page.wait_for_selector("#refused:not([hidden])")
        problems += check(page, "display-refused", artifacts)
        page.goto(f"{live_server.url}/display/#token={token}")
        page.wait_for_function("document.documentElement.dataset.connection === 'online'")
        problems += check(page, "display-empty-1920x1080", artifacts)
        admin.post("/counters/1/open")
        admin.post("/counters/2/open")
        for service in ("A", "B", "A"):
            admin.post("/tickets", {"service": service, "language": "ar"})
        admin.post("/counters/1/call-next")
        admin.post("/counters/2/call-next")
        admin.post("/counters/2/recall")
        page.wait_for_function("window.tabourDisplay.shown.length === 3")
        problems += check(page, "display-calls-1920x1080", artifacts)
        page.set_viewport_size({"width": 1280, "height": 720})
        problems += check(page, "display-calls-1280x720", artifacts)
    finally:
        ctx.close()
    assert not problems, "\n".join(problems)


# --- staff: console, back office, reports -------------------------------------------------------

def test_console_back_office_and_reports(live_server, browser, artifacts):
    admin = Admin(live_server)
    admin.post("/tickets", {"service": "A", "language": "fr"})
    admin.post("/tickets", {"service": "A", "language": "ar"})
    admin.post("/counters/6/open")
    requests.post(live_server.url + "/api/v1/dossiers", timeout=10, headers=admin.h, json={
        "type": "old_age_pension", "insured_number": INSURED, "language": "fr",
        "documents": ["claim_form"], "idempotency_key": "a11y-dossier-2", "print": False})
    problems = []
    for lang in ("ar", "fr"):
        ctx = ctx_of(browser, (1366, 768))
        page = ctx.new_page()
        try:
            page.goto(f"{live_server.url}/console/?lang={lang}")
            page.wait_for_selector("#login-view:not([hidden])")
            problems += check(page, f"console-login-{lang}", artifacts)
            page.fill("#username", "admin")
            page.fill("#password", ADMIN_PASSWORD)
            page.click("#login-submit")
            page.wait_for_selector('#counter-list button[data-counter="1"]')
            problems += check(page, f"console-counters-{lang}", artifacts)
            page.goto(f"{live_server.url}/backoffice/?lang={lang}")
            page.wait_for_selector("#list tbody tr")
            page.click("#list tbody tr")
            page.wait_for_selector("#detail:not([hidden])")
            problems += check(page, f"backoffice-{lang}", artifacts)
            page.evaluate("sessionStorage.clear()")
            page.goto(f"{live_server.url}/backoffice/?lang={lang}")
            page.wait_for_selector("#login-view:not([hidden])")
            problems += check(page, f"backoffice-login-{lang}", artifacts)
        finally:
            ctx.close()
        cctx, console = console_at(browser, live_server, 1, lang=lang, bypass_csp=True)
        try:
            console.keyboard.press("o")
            console.wait_for_selector('[data-action="next"]:not([disabled])')
            console.keyboard.press("n")
            console.wait_for_function("document.querySelector('#current').dataset.ticket !== ''")
            problems += check(console, f"console-{lang}", artifacts)
            console.keyboard.press("s")
            console.wait_for_function("document.querySelector('#current').dataset.status === 'serving'")
            console.keyboard.press("f")
            console.wait_for_selector("#finish-dialog[open]")
            problems += check(console, f"console-finish-{lang}", artifacts)
            console.keyboard.press("Escape")
            console.keyboard.press("t")
            console.wait_for_selector("#transfer-dialog[open]")
            problems += check(console, f"console-transfer-{lang}", artifacts)
            console.keyboard.press("Escape")
            console.wait_for_selector("#transfer-dialog:not([open])", state="attached")
            console.keyboard.press("f")
            console.wait_for_selector("#finish-dialog[open]")
            console.keyboard.press("Enter")
            console.wait_for_function("document.querySelector('#current').dataset.ticket === ''")
            console.keyboard.press("c")
        finally:
            cctx.close()
        # the managers' reports page (what exists of the dashboard)
        ctx = ctx_of(browser, (1366, 768))
        ctx.add_init_script("sessionStorage.setItem('tabour.console.token', %s);"
                            % json.dumps(live_server.token()))
        page = ctx.new_page()
        try:
            page.goto(f"{live_server.url}/dashboard/reports?lang={lang}")
            page.wait_for_load_state("networkidle")
            problems += check(page, f"reports-{lang}", artifacts, full_page=True)
        finally:
            ctx.close()
    assert not problems, "\n".join(problems)
