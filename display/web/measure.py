"""Browser measurements shared by the e2e tests and ``make bench`` (display/bench.py).

Click-to-display: a console page (the agent's) and a display page (the wall) open in two
browser contexts of one Chromium. The console records ``performance.timeOrigin +
performance.now()`` at the click (capture listener); the display records the same clock when
it renders the call. Both are the machine's wall clock in ms, so the difference is the
latency the visitor sees: REST call, commit, fan-out emit, websocket, render.
"""
from __future__ import annotations

import json
import statistics
import time

import requests

CLICK_PROBE = """() => {
  const b = document.querySelector('#actions [data-action="next"]');
  if (!b.dataset.probe) {
    b.dataset.probe = '1';
    b.addEventListener('click', () => { window.__clickAt = performance.timeOrigin + performance.now(); },
                       {capture: true});
  }
}"""


def _post(server_url, token, path, body=None):
    r = requests.post(server_url + "/api/v1" + path, json=body or {},
                      headers={"Authorization": f"Bearer {token}"}, timeout=10)
    return r


def open_display(browser, server_url, display_token, viewport=(1920, 1080), zone=None):
    ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = ctx.new_page()
    q = f"?zone={zone}" if zone else ""
    page.goto(f"{server_url}/display/{q}#token={display_token}")
    page.wait_for_function("document.documentElement.dataset.connection === 'online' && "
                           "document.querySelector('#services .svc') !== null")
    return ctx, page


def open_console(browser, server_url, token, counter, lang="fr", user=None):
    """A console already signed in (token in sessionStorage) at ``counter``."""
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    ctx.add_init_script(
        "sessionStorage.setItem('tabour.console.token', %s);"
        "sessionStorage.setItem('tabour.console.user', %s);"
        "localStorage.setItem('tabour.console.counter', '%d');"
        % (json.dumps(token), json.dumps(json.dumps(user or {"display_name": "bench"})), counter))
    page = ctx.new_page()
    page.goto(f"{server_url}/console/?lang={lang}")
    page.wait_for_function("document.documentElement.dataset.connection === 'online'")
    return ctx, page


def click_next_and_wait(console, display, timeout_ms=5000) -> tuple[str, float]:
    """Click "call next" in the console; return (code shown, ms from click to display)."""
    before = display.evaluate("window.tabourDisplay.shown.length")
    console.wait_for_selector('#actions [data-action="next"]:not([disabled])', timeout=timeout_ms)
    console.evaluate(CLICK_PROBE)
    console.click('#actions [data-action="next"]')
    display.wait_for_function(f"window.tabourDisplay.shown.length > {before}", timeout=timeout_ms)
    shown = display.evaluate(f"window.tabourDisplay.shown[{before}]")
    clicked = console.evaluate("window.__clickAt")
    return shown["code"], shown["at"] - clicked


def measure_click_to_display(browser, server_url: str, admin_token: str, runs: int = 20,
                             counter: int = 1) -> dict:
    """Median and p99 of click-to-display latency in real Chromium, over ``runs`` calls."""
    display_token = _post(server_url, admin_token, "/devices",
                          {"role": "display", "name": "bench display"}).json()["token"]
    _post(server_url, admin_token, f"/counters/{counter}/open")
    service = requests.get(f"{server_url}/api/v1/counters",
                           headers={"Authorization": f"Bearer {admin_token}"}, timeout=10) \
        .json()["counters"][counter - 1]["services"][0]
    dctx, display = open_display(browser, server_url, display_token)
    cctx, console = open_console(browser, server_url, admin_token, counter)
    samples = []
    try:
        for _ in range(runs):
            _post(server_url, admin_token, "/tickets", {"service": service, "language": "fr"})
            console.wait_for_selector('#actions [data-action="next"]:not([disabled])')
            _, ms = click_next_and_wait(console, display)
            samples.append(ms)
            _post(server_url, admin_token, f"/counters/{counter}/start")
            _post(server_url, admin_token, f"/counters/{counter}/finish", {"outcome": "served"})
            console.wait_for_function("document.querySelector('#current').dataset.ticket === ''")
    finally:
        cctx.close()
        dctx.close()
    samples.sort()
    out = {"median": round(statistics.median(samples), 1), "n": len(samples)}
    if len(samples) >= 100:  # a p99 only from 100 samples or more; else the maximum
        out["p99"] = round(samples[min(len(samples) - 1, int(round(0.99 * (len(samples) - 1))))], 1)
    else:
        out["max"] = round(samples[-1], 1)
    return {"click_to_display_ms": out}


def measure_first_announcement(browser, server_url: str, admin_token: str,
                               counter: int = 2) -> dict:
    """From "call next" (REST) to the display receiving the announcement of an uncached call
    (espeak-ng runs: a code never announced before on this server), in ms."""
    display_token = _post(server_url, admin_token, "/devices",
                          {"role": "display", "name": "bench announcements"}).json()["token"]
    _post(server_url, admin_token, f"/counters/{counter}/open")
    dctx, display = open_display(browser, server_url, display_token)
    try:
        display.evaluate("""() => { window.__ann = [];
          window.tabourDisplay.live.socket.on('announcement', a => window.__ann.push(
            {code: a.code, at: performance.timeOrigin + performance.now()})); }""")
        service = requests.get(f"{server_url}/api/v1/counters",
                               headers={"Authorization": f"Bearer {admin_token}"},
                               timeout=10).json()["counters"][counter - 1]["services"][0]
        _post(server_url, admin_token, "/tickets", {"service": service, "language": "ar"})
        started = time.time() * 1000.0
        r = _post(server_url, admin_token, f"/counters/{counter}/call-next")
        r.raise_for_status()
        # this call's announcement: an earlier call's may still arrive (made late, or
        # replayed to a display that just connected)
        code = r.json()["code"]
        display.wait_for_function("code => window.__ann.some(a => a.code === code)",
                                  arg=code, timeout=10000)
        got = display.evaluate("code => window.__ann.find(a => a.code === code).at", code)
    finally:
        dctx.close()
    return {"announcement_first_audio_ms": round(got - started, 1)}
