"""Sign out (issue 12): the "Sign out" button of each staff page revokes the token on the
server (POST /api/v1/auth/logout), not only in the page: a copy of the token (another
tab, a shared PC's memory) is refused afterwards. Real server, real Chromium."""
from __future__ import annotations

import json
import time

import pytest
import requests

PAGES = [("/console/", "agent"), ("/backoffice/", "agent"), ("/dashboard/", "manager"),
         ("/dashboard/reports", "manager"), ("/admin/", "admin")]


def login(server, username, password):
    r = requests.post(server.url + "/api/v1/auth/token", timeout=10,
                      json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("path, role", PAGES)
def test_the_sign_out_button_revokes_the_token(live_server, browser, path, role):
    admin = live_server.token()
    username = f"out.{role}.{path.strip('/').replace('/', '.') or 'x'}"
    r = requests.post(live_server.url + "/api/v1/users", timeout=10,
                      headers={"Authorization": "Bearer " + admin},
                      json={"username": username, "password": "password-123", "role": role})
    assert r.status_code == 201, r.text
    signed = login(live_server, username, "password-123")
    token = signed["token"]
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    ctx.add_init_script(
        "sessionStorage.setItem('tabour.console.token', %s);"
        "sessionStorage.setItem('tabour.console.user', %s);"
        % (json.dumps(token), json.dumps(json.dumps(signed["user"]))))
    page = ctx.new_page()
    try:
        page.goto(f"{live_server.url}{path}?lang=fr")
        button = page.locator("#logout")
        button.wait_for(state="visible", timeout=10000)
        button.click()
        headers = {"Authorization": "Bearer " + token}
        deadline = time.monotonic() + 5
        while True:
            status = requests.get(live_server.url + "/api/v1/counters", headers=headers,
                                  timeout=10).status_code
            if status == 401 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert status == 401, f"{path}: the token still works after Sign out"
        assert page.evaluate("sessionStorage.getItem('tabour.console.token')") is None
    finally:
        ctx.close()
