"""A kiosk, a wall display and a console through real server outages longer than the kiosk's
idle time: the server is stopped (SIGTERM) and killed (SIGKILL), then started again on the
same port and database, as a branch PC's service manager would.

- the kiosk never leaves its page: back on its start screen by itself, the tap made during
  the outage kept with its key and issued once (and printed once) when the server is back;
- the console says an action could not be sent, keeps what the agent typed, and sends it
  once the server is back;
- the display shows every call and announces each once, the one made 0.1 s before a
  SIGKILL included (late rather than never).
"""
from __future__ import annotations

import os
import sqlite3
import time

import requests

from e2e.conftest import Admin, kiosk_page
from e2e.test_console_screens import console_at
from support.screens import child_pids, end_pids, wait_until

IDLE_S = 4

# what was really heard: every audio element that started playing (not what the page says)
HEARD = """
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  this.addEventListener("playing", () => (window.__heard = window.__heard || []).push(
    this.src.split("/").pop()), { once: true });
  return play.apply(this, arguments);
};
"""


def display_page(browser, server, token):
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    ctx.add_init_script(HEARD)
    page = ctx.new_page()
    page.goto(f"{server.url}/display/#token={token}")
    page.wait_for_function("document.documentElement.dataset.connection === 'online' && "
                           "document.querySelector('#services .svc') !== null")
    return ctx, page


def _all_tickets(admin) -> list[dict]:
    """Every ticket of the day, by id (the API has no list of tickets)."""
    out, n = [], 1
    while True:
        r = requests.get(admin.url + f"/tickets/{n}", headers=admin.h, timeout=10)
        if r.status_code != 200:
            return out
        out.append(r.json())
        n += 1


def test_kiosk_display_console_through_outages(make_server, printer, browser, artifacts):
    server = make_server(printer, TABOUR_KIOSK_IDLE_SECONDS=str(IDLE_S))
    admin = Admin(server)
    admin.wait_printer_online()
    admin.post("/counters/1/open")
    admin.post("/counters/2/open")
    admin.post("/counters/3/open")
    first = admin.post("/tickets", {"service": "A", "language": "fr"}).json()
    admin.post("/tickets", {"service": "B", "language": "ar"})
    admin.post("/tickets", {"service": "B", "language": "fr"})
    display_token = admin.post("/devices", {"role": "display", "name": "hall"}).json()["token"]

    kctx, kiosk = kiosk_page(browser, server, admin, (1080, 1920), "fr")
    dctx, display = display_page(browser, server, display_token)
    cctx, console = console_at(browser, server, 1)
    try:
        # a call before anything breaks: shown and announced
        console.keyboard.press("n")
        console.wait_for_function(f"document.querySelector('#current-code').textContent === '{first['code']}'")
        console.keyboard.press("s")
        console.wait_for_function("document.querySelector('#current').dataset.status === 'serving'")
        display.wait_for_function("window.tabourDisplay.played.length === 1", timeout=15000)
        # a second call while the first is being spoken (~9 s): its turn comes in the outage
        second = admin.post("/counters/2/call-next").json()
        display.wait_for_function("window.tabourDisplay.queue.length === 1", timeout=10000)

        # --- outage 1: SIGTERM, longer than the kiosk's idle time ---------------------------
        kids = child_pids(server.pid)
        server.stop()
        orphans = [pid for pid in kids if os.path.exists(f"/proc/{pid}")]
        end_pids(orphans)  # what a service manager does (they would also stop by themselves)
        console.keyboard.press("f")
        console.wait_for_selector("#finish-dialog[open]")
        console.fill("#note", "dossier complet")
        console.click("#finish-ok")
        console.wait_for_selector("#message:not([hidden])")
        assert console.locator("#message").inner_text().strip(), "the console says it"
        assert console.text_content("#current-code") == first["code"]
        console.screenshot(path=str(artifacts / "outage-console-fr.png"))

        # the kiosk went back to its start (idle): a language tap works without the server
        kiosk.click('.lang-button[data-lang="fr"]')
        kiosk.click('.service[data-prefix="A"]')  # a tap while the server is down
        kiosk.wait_for_function("document.documentElement.dataset.connection === 'reconnecting'")
        kiosk.screenshot(path=str(artifacts / "outage-kiosk-pending-fr.png"))
        time.sleep(IDLE_S + 2)
        assert kiosk.locator("#languages").is_visible(), "back on the start screen, in place"
        assert kiosk.evaluate("performance.getEntriesByType('navigation').length") == 1
        assert kiosk.url.startswith(server.url + "/kiosk/")
        kiosk.screenshot(path=str(artifacts / "outage-kiosk-start.png"))

        printer.clear()
        server.start()
        # the kiosk comes back by itself and the pending tap is issued once, and printed
        kiosk.wait_for_function("document.documentElement.dataset.connection === 'online'",
                                timeout=15000)
        issued = wait_until(lambda: [t for t in _all_tickets(admin) if t["channel"] == "kiosk"],
                            timeout=15, what="the pending tap issued")
        assert len(issued) == 1, issued
        code = issued[0]["code"]
        # the embedded printer agent restarts once the last process's lease lapses (~40 s)
        printer.wait_for(lambda d: code.encode() in d and b"\x1dV" in d, timeout=60)
        time.sleep(2)
        assert printer.received.count(code.encode()) == 1, "printed once"
        # the console sent the finish the agent made during the outage, with the note
        console.wait_for_function("document.querySelector('#current').dataset.ticket === ''",
                                  timeout=15000)
        assert "envoyé" in console.inner_text("#message")  # "... was sent", said
        done = [t for t in _all_tickets(admin) if t["code"] == first["code"]][0]
        assert done["status"] == "done" and done["outcome"] == "served"
        with sqlite3.connect(server.env["TABOUR_DATABASE_URL"].split("///", 1)[1]) as db:
            (note,) = db.execute("SELECT note FROM tickets WHERE id = ?", (done["id"],)).fetchone()
        assert note == "dossier complet", "the agent's note was kept through the outage"

        # --- outage 2: a call 0.1 s before a SIGKILL -----------------------------------------
        kids = child_pids(server.pid)
        called = admin.post("/counters/3/call-next").json()
        time.sleep(0.1)
        server.kill9()
        end_pids(kids)  # a service manager ends the whole group (the printer agent too)
        time.sleep(IDLE_S + 2)
        server.start()
        display.wait_for_function(
            f"document.getElementById('latest-code').textContent === '{called['code']}'",
            timeout=15000)
        display.wait_for_function(
            f"window.tabourDisplay.played.some(p => p.code === '{called['code']}')", timeout=40000)
        display.screenshot(path=str(artifacts / "outage-display-after.png"))
        played = display.evaluate("window.tabourDisplay.played")
        seqs = [p["seq"] for p in played]
        assert len(seqs) == len(set(seqs)), f"announced once each: {played}"
        # the first, the one whose turn came in the outage (late, not lost), the SIGKILL one
        assert [p["code"] for p in played] == [first["code"], second["code"], called["code"]]
        heard = display.evaluate("window.__heard || []")
        assert heard == [p["url"].split("/")[-1] for p in played], (heard, played)
        assert display.locator("#sound").is_hidden(), "no 'tap to enable sound' after an outage"
    finally:
        kctx.close()
        cctx.close()
        dctx.close()
