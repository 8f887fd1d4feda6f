"""A guesser cannot lock the staff out (issue 12): after wrong passwords for 'admin' lock
the account for unknown browsers, the browser that signed in before (its device cookie,
set by the real sign-in form) still signs in; a new browser is told, in its language,
how long to wait."""
from __future__ import annotations

import requests

from .conftest import ADMIN_PASSWORD


def _sign_in(page, server, lang="fr"):
    page.goto(f"{server.url}/admin/?lang={lang}#devices")
    page.fill("#username", "admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("#login-submit")


def test_the_browser_that_signed_in_before_is_not_locked_out(browser, live_server):
    known = browser.new_context()
    stranger = browser.new_context()
    try:
        page = known.new_page()
        _sign_in(page, live_server)
        page.wait_for_function("window.tabourAdmin && window.tabourAdmin.loaded >= 1")
        assert any(c["name"] == "tabour_device" and c["httpOnly"] for c in known.cookies())

        with requests.Session() as guesser:
            answers = [guesser.post(f"{live_server.url}/api/v1/auth/token", timeout=30,
                                    json={"username": "admin", "password": f"guess-{i}"}
                                    ).status_code for i in range(11)]
        assert answers[:10] == [401] * 10 and answers[10] == 429

        other = stranger.new_page()
        _sign_in(other, live_server)
        other.wait_for_selector("#message:not([hidden])")
        assert "minute" in other.inner_text("#message")  # how long, in French
        assert not other.is_visible("#admin-view")

        again = known.new_page()  # a new tab: no token, the same cookie jar
        _sign_in(again, live_server)
        again.wait_for_function("window.tabourAdmin && window.tabourAdmin.loaded >= 1")
    finally:
        known.close()
        stranger.close()
