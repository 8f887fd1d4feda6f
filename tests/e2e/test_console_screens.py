"""Console defects found in use (issue 11): 5. "F then Enter" finishes the ticket;
11. the transfer dialog offers only counters that can take the ticket, the state pill
tells a called ticket from one being served, dialog headings do not look disabled."""
from __future__ import annotations

import json

import requests

from e2e.conftest import Admin


def console_at(browser, server, counter, lang="fr", token=None, **context):
    """A signed-in console at ``counter`` (the token in sessionStorage, as after a sign-in);
    ``context``: more options of the browser context (``bypass_csp=True`` to inject axe)."""
    token = token or server.token()
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, **context)
    ctx.add_init_script(
        "sessionStorage.setItem('tabour.console.token', %s);"
        "sessionStorage.setItem('tabour.console.user', '{\"display_name\": \"Amina\"}');"
        "localStorage.setItem('tabour.console.counter', '%d');" % (json.dumps(token), counter))
    page = ctx.new_page()
    page.goto(f"{server.url}/console/?lang={lang}")
    page.wait_for_function("document.documentElement.dataset.connection === 'online'")
    return ctx, page


def test_5_f_then_enter_finishes_the_ticket(live_server, browser, artifacts):
    admin = Admin(live_server).ok
    t = admin("/tickets", {"service": "A", "language": "fr"})
    admin("/counters/1/open")
    ctx, page = console_at(browser, live_server, 1)
    try:
        page.keyboard.press("n")
        page.wait_for_function(f"document.querySelector('#current-code').textContent === '{t['code']}'")
        page.keyboard.press("s")
        page.wait_for_function("document.querySelector('#current').dataset.status === 'serving'")
        page.keyboard.press("f")
        page.wait_for_selector("#finish-dialog[open]")
        page.screenshot(path=str(artifacts / "console-finish-dialog-fr.png"))
        page.keyboard.press("Enter")
        page.wait_for_function("document.querySelector('#current').dataset.ticket === ''",
                               timeout=5000)
        done = requests.get(live_server.url + "/api/v1/tickets/" + str(t["id"]),
                            headers={"Authorization": "Bearer " + live_server.token()},
                            timeout=10).json()
        assert done["status"] == "done" and done["outcome"] == "served", done
    finally:
        ctx.close()


def test_11_transfer_offers_open_counters_pill_says_called(live_server, browser, artifacts):
    admin = Admin(live_server).ok
    t = admin("/tickets", {"service": "A", "language": "fr"})
    admin("/counters/1/open")
    admin("/counters/6/open")  # counter 6 serves A; counter 2 serves A but stays closed
    ctx, page = console_at(browser, live_server, 1)
    try:
        page.keyboard.press("n")
        page.wait_for_function(f"document.querySelector('#current-code').textContent === '{t['code']}'")
        pill = page.locator("#counter-state")
        assert pill.inner_text() != "En service", "a called ticket is not being served yet"
        assert "appel" in pill.inner_text().lower()
        page.keyboard.press("s")
        page.wait_for_function("document.querySelector('#current').dataset.status === 'serving'")
        assert pill.inner_text() == "En service"

        page.keyboard.press("t")
        page.wait_for_selector("#transfer-dialog[open]")
        offered = page.eval_on_selector_all("#transfer-counter option",
                                            "os => os.map(o => o.value).filter(Boolean)")
        counters = requests.get(live_server.url + "/api/v1/counters", timeout=10, headers={
            "Authorization": "Bearer " + live_server.token()}).json()["counters"]
        closed = {str(c["number"]) for c in counters if c["state"] == "closed"}
        assert offered, "an open counter serving A is offered"
        assert not closed & set(offered), f"closed counters offered: {closed & set(offered)}"
        assert "6" in offered and "1" not in offered
        # dialog headings read like headings, not like something disabled
        colours = page.evaluate("""() => [getComputedStyle(document.querySelector('#transfer-dialog h2')).color,
                                          getComputedStyle(document.body).color]""")
        assert colours[0] == colours[1], colours
        page.screenshot(path=str(artifacts / "console-transfer-dialog-fr.png"))
        page.select_option("#transfer-counter", "6")
        page.click("#transfer-ok")
        page.wait_for_function("document.querySelector('#current').dataset.ticket === ''")
    finally:
        ctx.close()
