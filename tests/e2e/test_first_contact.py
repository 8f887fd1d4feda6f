"""Defect 13, first contact: the start banner of the embedded default prints a one-time
pairing code for a kiosk and for a display (never a token), typed on the pages; the pages
without a pairing say how to get one; the API has a readable documentation page served
locally; a favicon."""
from __future__ import annotations

import re
import time

import requests

from support.screens import wait_until

CODE = re.compile(r"\b(\d{3}-\d{3})\b")


def banner(server) -> str:
    return wait_until(lambda: "Display pairing code" in server.log_path.read_text()
                      and server.log_path.read_text(), timeout=10, what="the start banner")


def test_13_pairing_codes_at_start_docs_and_favicon(live_server, browser, artifacts):
    text = banner(live_server)
    kiosk_line = next(line for line in text.splitlines() if "Kiosk pairing code" in line)
    display_line = next(line for line in text.splitlines() if "Display pairing code" in line)
    kiosk_code = CODE.search(kiosk_line).group(1)
    display_code = CODE.search(display_line).group(1)
    assert kiosk_code != display_code
    assert "15 min" in kiosk_line
    # no token in the banner, nor in any address it prints (a device token is 43 characters)
    start = text.index("Tabour is running")
    block = text[start:text.index("Ctrl+C", start)]
    assert "token=" not in block and not re.search(r"(?<![/\w])[A-Za-z0-9_-]{32,}", block), block

    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    page = ctx.new_page()
    try:
        # a display without a token says how to get one, and takes the code typed on it
        page.goto(live_server.url + "/display/")
        page.wait_for_selector("#pairing:not([hidden])")
        help_text = page.inner_text("#pairing")
        assert "run.py pairing-code --role display" in help_text
        page.screenshot(path=str(artifacts / "display-pairing-1280x720.png"))
        page.fill("#pairing-code", display_code)
        page.click("#pairing-form button[type=submit]")
        page.wait_for_function("document.documentElement.dataset.connection === 'online'")
        assert page.evaluate("location.href").endswith("/display/")  # no token in the address
        assert page.evaluate("localStorage.getItem('tabour.display.token')")

        # the kiosk's pairing screen says where codes come from; the banner's code pairs it
        kiosk = ctx.new_page()
        kiosk.set_viewport_size({"width": 1080, "height": 1920})
        kiosk.goto(live_server.url + "/kiosk/")
        kiosk.wait_for_selector("#pairing:not([hidden])")
        assert "run.py pairing-code --role kiosk" in kiosk.inner_text("#pairing")
        kiosk.screenshot(path=str(artifacts / "kiosk-pairing-help.png"))
        kiosk.fill("#pairing-code", kiosk_code)
        kiosk.click("#pairing-form button[type=submit]")
        kiosk.wait_for_selector("#languages:not([hidden])")

        # a code is spent once
        again = requests.post(live_server.url + "/api/v1/display/pair",
                              json={"code": display_code}, timeout=10)
        assert again.status_code == 404

        # the API documentation, readable, served from this server (no CDN)
        docs = ctx.new_page()
        outside = []
        docs.on("request", lambda r: outside.append(r.url)
                if not r.url.startswith(live_server.url) and not r.url.startswith("data:") else None)
        docs.goto(live_server.url + "/api/v1/docs")
        docs.wait_for_selector(".opblock", timeout=15000)
        assert docs.locator(".opblock").count() > 20
        assert not outside, outside
        docs.screenshot(path=str(artifacts / "api-docs.png"))

        fav = requests.get(live_server.url + "/favicon.ico", timeout=10)
        assert fav.status_code == 200 and fav.headers["Content-Type"].startswith("image/")
        index = requests.get(live_server.url + "/", timeout=10).json()
        assert index["api_docs"] == "/api/v1/docs"
    finally:
        ctx.close()

    # after a restart both are paired: no new codes, but how to make one
    live_server.stop()
    time.sleep(0.5)
    live_server.log_path.write_text("")
    live_server.start()
    text = wait_until(lambda: "pairing-code" in live_server.log_path.read_text()
                      and live_server.log_path.read_text(), timeout=10, what="the banner")
    assert "Kiosk pairing code" not in text and "Display pairing code" not in text
    assert "run.py pairing-code" in text
