"""An admin pairs a kiosk from /admin/ in Chromium: the code is shown large, a kiosk page
pairs with it and the device list shows it connected. A manager sees the branch's pages but
not the devices, and a refusal (a service left without a counter) comes back in the page's
language with nothing changed. Screenshots in French and Arabic in var/artifacts/admin-*.png."""
from __future__ import annotations

import re
from datetime import date, timedelta

import requests

from .conftest import ADMIN_PASSWORD


def _signed_in(browser, server, lang, user=("admin", ADMIN_PASSWORD), tab="devices"):
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    page.goto(f"{server.url}/admin/?lang={lang}#{tab}")
    page.fill("#username", user[0])
    page.fill("#password", user[1])
    page.click("#login-submit")
    page.wait_for_function("window.tabourAdmin && window.tabourAdmin.loaded >= 1")
    return ctx, page


def test_an_admin_pairs_a_kiosk_from_the_admin_page(browser, live_server, artifacts):
    ctx, admin = _signed_in(browser, live_server, "fr")
    kiosk_ctx = browser.new_context(viewport={"width": 1080, "height": 1920})
    try:
        assert admin.is_visible("#tab-devices")
        admin.fill("#pair-name", "Entrée nord")
        admin.click("#pair-form button[type=submit]")
        admin.wait_for_selector("#pair-result:not([hidden])")
        code = admin.inner_text("#pair-code")
        assert re.fullmatch(r"\d{3}-\d{3}", code), code
        size = admin.evaluate("parseFloat(getComputedStyle(document.getElementById('pair-code'))"
                              ".fontSize)")
        assert size >= 40  # shown large, to be read across the room
        assert "Valable jusqu'à" in admin.inner_text("#pair-expires")
        admin.screenshot(path=str(artifacts / "admin-pairing-fr.png"), full_page=True)

        kiosk = kiosk_ctx.new_page()
        kiosk.goto(live_server.url + "/kiosk/")
        kiosk.fill("#pairing-code", code)
        kiosk.click("#pairing-form button")
        kiosk.wait_for_selector("#languages:not([hidden])")

        admin.click('[data-tab="history"]')
        admin.click('[data-tab="devices"]')
        admin.wait_for_function(
            "[...document.querySelectorAll('#devices tbody tr')].some(r => "
            "r.textContent.includes('Entrée nord') && r.textContent.includes('connecté'))",
            timeout=5000)
        row = [r for r in admin.query_selector_all("#devices tbody tr")
               if "Entrée nord" in r.inner_text()][0]
        assert "Borne" in row.inner_text()
        # the same code a second time: spent
        r = requests.post(live_server.url + "/api/v1/kiosk/pair", json={"code": code},
                          timeout=10)
        assert r.status_code == 404 and r.json()["error"]["code"] == "invalid_pairing_code"
        admin.click('[data-tab="history"]')
        admin.wait_for_selector("#history tbody tr")
        history = admin.inner_text("#history")
        assert "Borne appairée" in history and "Code d'appairage créé" in history
    finally:
        ctx.close()
        kiosk_ctx.close()

    ctx, admin = _signed_in(browser, live_server, "ar")
    try:
        admin.fill("#pair-name", "المدخل")
        admin.click("#pair-form button[type=submit]")
        admin.wait_for_selector("#pair-result:not([hidden])")
        admin.fill("#display-name", "تلفاز القاعة")
        admin.select_option("#display-zone", "hall")
        admin.click("#display-form button[type=submit]")
        admin.wait_for_selector("#display-result:not([hidden])")
        assert "/display/?zone=hall#token=" in admin.inner_text("#display-url")
        assert admin.evaluate("document.documentElement.dir") == "rtl"
        admin.screenshot(path=str(artifacts / "admin-pairing-ar.png"), full_page=True)
        for tab in ("services", "counters", "hours", "users"):
            admin.click(f'[data-tab="{tab}"]')
            admin.wait_for_timeout(300)
            admin.screenshot(path=str(artifacts / f"admin-{tab}-ar.png"), full_page=True)
    finally:
        ctx.close()


def test_a_manager_changes_the_branch_and_is_refused_in_their_language(browser, live_server,
                                                                        artifacts):
    token = live_server.token()
    r = requests.post(live_server.url + "/api/v1/users", timeout=10,
                      headers={"Authorization": "Bearer " + token},
                      json={"username": "salma", "password": "manager-pass-123",
                            "role": "manager", "display_name": "Salma"})
    assert r.status_code == 201, r.text
    ctx, page = _signed_in(browser, live_server, "fr", ("salma", "manager-pass-123"),
                           tab="counters")
    try:
        assert not page.is_visible('[data-tab="devices"]')  # devices: administrators only
        assert page.is_visible('[data-tab="counters"]')
        # counter 5 without D, then counter 6 without D: D would have no counter
        card5 = '.counter-edit[data-number="5"]'
        page.click(f'{card5} li[data-prefix="D"] [data-remove]')
        page.click(f'{card5} [data-save-counter]')
        page.wait_for_function("window.tabourAdmin.saved >= 1")
        card6 = '.counter-edit[data-number="6"]'
        page.click(f'{card6} li[data-prefix="D"] [data-remove]')
        page.click(f'{card6} [data-save-counter]')
        page.wait_for_selector("#message.error:not([hidden])")
        assert "Plus aucun guichet ne traiterait D" in page.inner_text("#message")
        page.screenshot(path=str(artifacts / "admin-refused-fr.png"), full_page=True)
        counters = requests.get(live_server.url + "/api/v1/counters", timeout=10,
                                headers={"Authorization": "Bearer " + token}).json()["counters"]
        by = {c["number"]: c["services"] for c in counters}
        assert by[5] == ["E", "C"] and by[6] == ["E", "D", "A", "B", "C"]  # 6 unchanged

        # opening hours from the page; the kiosk then refuses outside them, in its language
        page.click('[data-tab="hours"]')
        page.check("#hours-set")
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
            page.fill(f'[data-day="{day}"]', "")  # closed every day...
        page.click("#add-special")
        day = (date.today() + timedelta(days=10)).isoformat()  # beyond a week: said as a date
        page.fill("#special tr.special:last-child [data-f=from]", day)
        page.uncheck("#special tr.special:last-child [data-f=closed]")
        page.fill("#special tr.special:last-child [data-f=hours]", "09:00-12:00")
        page.fill("#special tr.special:last-child [data-f=note]", "Antenne")
        page.click("#save-hours")
        page.wait_for_function("window.tabourAdmin.saved >= 2")
        kiosk = requests.post(live_server.url + "/api/v1/devices", timeout=10,
                              headers={"Authorization": "Bearer " + token},
                              json={"role": "kiosk", "name": "k"}).json()["token"]
        r = requests.post(live_server.url + "/api/v1/tickets?lang=fr", timeout=10,
                          headers={"Authorization": "Bearer " + kiosk},
                          json={"service": "A", "language": "fr"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "branch_closed_now"
        assert r.json()["error"]["params"] == {"back_day": day, "back_time": "09:00"}
        assert "09:00" in r.json()["error"]["message"]
        page.screenshot(path=str(artifacts / "admin-hours-fr.png"), full_page=True)
    finally:
        ctx.close()


def test_an_agent_is_turned_away_from_administration(browser, live_server):
    r = requests.post(live_server.url + "/api/v1/users", timeout=10,
                      headers={"Authorization": "Bearer " + live_server.token()},
                      json={"username": "amine", "password": "agent-pass-123", "role": "agent"})
    assert r.status_code == 201, r.text
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(f"{live_server.url}/admin/?lang=ar")
    page.fill("#username", "amine")
    page.fill("#password", "agent-pass-123")
    page.click("#login-submit")
    page.wait_for_selector("#message:not([hidden])")
    assert "مخصصة للمسؤولين" in page.inner_text("#message")
    assert page.is_visible("#login-form") and not page.is_visible("#admin-view")
    ctx.close()
