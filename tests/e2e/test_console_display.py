"""An agent works a counter in the console; the wall display shows and announces the calls.

Real server (run.py, gevent), real Chromium: one context for the agent's console, one for
the wall display (1920x1080). Screenshots go to var/artifacts/.
"""
from __future__ import annotations

import requests

from display.web.measure import CLICK_PROBE, click_next_and_wait, open_display

AGENT_PASSWORD = "agent-pass-123"


def _api(server, token):
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"

    def post(path, body=None):
        r = s.post(server.url + "/api/v1" + path, json=body or {}, timeout=10)
        assert r.status_code < 400, r.text
        return r.json() if r.status_code != 204 else None
    return post


def test_agent_calls_next_display_shows_it_recall_and_transfer(live_server, browser, artifacts):
    admin = _api(live_server, live_server.token())
    admin("/users", {"username": "amina", "password": AGENT_PASSWORD, "role": "agent",
                     "display_name": "Amina"})
    display_token = admin("/devices", {"role": "display", "name": "hall"})["token"]
    first = admin("/tickets", {"service": "B", "language": "ar"})
    second = admin("/tickets", {"service": "B", "language": "fr"})
    admin("/tickets", {"service": "A", "language": "fr"})

    dctx, display = open_display(browser, live_server.url, display_token)
    cctx = browser.new_context(viewport={"width": 1366, "height": 768})
    console = cctx.new_page()
    try:
        # --- sign in (Arabic), pick counter 3, open it with the keyboard ----------------
        console.goto(live_server.url + "/console/?lang=ar")
        assert console.evaluate("document.documentElement.dir") == "rtl"
        console.fill("#username", "amina")
        console.fill("#password", AGENT_PASSWORD)
        console.click("#login-submit")
        console.click('#counter-list button[data-counter="3"]')
        console.wait_for_function("document.documentElement.dataset.connection === 'online'")
        assert console.evaluate("localStorage.getItem('tabour.console.counter')") == "3"
        assert console.is_disabled('[data-action="next"]')  # closed counter: nothing to call
        console.keyboard.press("o")
        console.wait_for_selector('[data-action="next"]:not([disabled])')
        assert console.is_disabled('[data-action="finish"]')

        # --- call next: the display shows it within 200 ms, right counter, ar + fr ------
        code, ms = click_next_and_wait(console, display)
        assert code == first["code"]
        assert ms < 200, f"click to display took {ms:.0f} ms"
        assert display.text_content("#latest-code") == first["code"]
        assert display.text_content("#latest-counter") == "3"
        latest = display.inner_text("#latest")
        assert "Guichet" in latest and "الشباك" in latest  # French and Arabic labels at once
        assert display.evaluate("document.documentElement.dir") == "rtl"
        console.wait_for_function(f"document.querySelector('#current-code').textContent === "
                                  f"'{first['code']}'")
        assert console.is_disabled('[data-action="next"]')
        assert not console.is_disabled('[data-action="recall"]')

        # --- recall: another row on the display, announced again ------------------------
        console.keyboard.press("r")
        display.wait_for_function("window.tabourDisplay.shown.length === 2")
        assert display.evaluate("window.tabourDisplay.shown[1].kind") == "recalled"
        assert "إعادة النداء" in display.inner_text("#latest-tag")
        rows = display.locator("#calls tbody tr")
        assert rows.count() == 0, "a recall is a tag on the call, not a second row"
        # the call plays (~9 s: chime, Arabic, French); the recall waits its turn, in order
        display.wait_for_function("window.tabourDisplay.played.length >= 1 && "
                                  "window.tabourDisplay.played.length + "
                                  "window.tabourDisplay.queue.length === 2", timeout=10000)
        played = display.evaluate("window.tabourDisplay.played")
        queued = display.evaluate("window.tabourDisplay.queue")
        seqs = [p["seq"] for p in played] + [q["seq"] for q in queued]
        assert seqs == sorted(seqs) and len(set(seqs)) == 2
        assert played[0]["languages"] == ["ar", "fr"]  # the visitor's language first
        wav = requests.get(live_server.url + played[0]["url"], timeout=10)
        assert wav.status_code == 200 and wav.content[:4] == b"RIFF"

        console.screenshot(path=str(artifacts / "console-ar-1366x768.png"))
        display.screenshot(path=str(artifacts / "display-1920x1080.png"))

        # --- transfer to counter 4: gone from counter 3, marked on the display ----------
        admin("/counters/4/open")  # a transfer goes to an open counter only
        console.keyboard.press("t")
        console.select_option("#transfer-counter", "4")
        console.click("#transfer-ok")
        console.wait_for_function("document.querySelector('#current').dataset.ticket === ''")
        display.wait_for_function("document.querySelector('#latest-tag').innerText.includes('Transf')")
        called = admin("/counters/4/call-next")
        assert called["code"] == first["code"]  # transferred to counter 4
        display.wait_for_function("window.tabourDisplay.shown.length === 3")
        assert display.text_content("#latest-code") == first["code"]
        assert display.text_content("#latest-counter") == "4"

        # --- the next call at counter 3 is the second ticket -----------------------------
        code, ms = click_next_and_wait(console, display)
        assert code == second["code"] and ms < 200
        display.set_viewport_size({"width": 1280, "height": 720})
        display.screenshot(path=str(artifacts / "display-1280x720.png"))
    finally:
        cctx.close()
        dctx.close()


def test_two_tabs_on_one_counter_stay_consistent(live_server, browser, artifacts):
    token = live_server.token()
    admin = _api(live_server, token)
    t = admin("/tickets", {"service": "A", "language": "fr"})
    admin("/counters/1/open")
    ctx = browser.new_context()
    ctx.add_init_script("sessionStorage.setItem('tabour.console.token', %r);"
                        "sessionStorage.setItem('tabour.console.user', '{}');"
                        "localStorage.setItem('tabour.console.counter', '1');" % token)
    a, b = ctx.new_page(), ctx.new_page()
    syncs = []  # what the tabs ask the server for: a snapshot a click is what this avoids

    def frames(ws):
        ws.on("framesent", lambda f: syncs.append(f) if '"sync"' in str(f) else None)
    try:
        for p in (a, b):
            p.on("websocket", frames)
            p.goto(live_server.url + "/console/?lang=fr")
            p.wait_for_function("document.documentElement.dataset.connection === 'online'")
            p.wait_for_selector('[data-action="next"]:not([disabled])')
        a.evaluate(CLICK_PROBE)
        a.click('[data-action="next"]')
        for p in (a, b):
            p.wait_for_function(f"document.querySelector('#current-code').textContent === '{t['code']}'")
            assert p.is_disabled('[data-action="next"]')
        b.keyboard.press("s")  # started in tab b ...
        a.wait_for_function("document.querySelector('#current').dataset.status === 'serving'")
        assert not a.is_disabled('[data-action="finish"]')  # ... tab a knows at once
        # tab a finishes with an outcome and a note; both tabs are free again
        a.keyboard.press("f")
        a.select_option("#outcome", "dossier_received")
        a.fill("#note", "dossier complet")
        a.click("#finish-ok")
        for p in (a, b):
            p.wait_for_function("document.querySelector('#current').dataset.ticket === ''")
        a.screenshot(path=str(artifacts / "console-fr-two-tabs.png"))
        # closing and opening again: both tabs follow, from the counter's push alone
        b.keyboard.press("c")
        for p in (a, b):
            p.wait_for_function("document.querySelector('#counter-state').dataset.state === "
                                "'closed'")
            p.wait_for_selector('[data-action="open"]:not([disabled]):not([hidden])')
        a.keyboard.press("o")
        for p in (a, b):
            p.wait_for_function("document.querySelector('#counter-state').dataset.state === "
                                "'open'")
        # call, start, finish, close, open: the tabs showed each from the pushes of their
        # counter's queue, and asked the server for no snapshot
        assert syncs == [], syncs
    finally:
        ctx.close()
