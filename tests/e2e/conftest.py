"""e2e: a real server process (run.py, gevent) and real Chromium through Playwright.

Chromium is Debian's (/usr/bin/chromium); Playwright never downloads a browser.
Screenshots and other artefacts go to var/artifacts/ (git-ignored).
"""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
import requests

from support.server import ROOT, ServerProcess
from support.virtual_printers import TcpVirtualPrinter

ADMIN_PASSWORD = "admin-pass-for-e2e"


def _csp_safe_wait_for_function() -> None:
    """Pages run under a CSP without 'unsafe-eval' (queue_server/security_headers.py).
    Playwright polls a ``wait_for_function`` given as an expression with eval() inside
    the page, which that policy refuses; given as a function it needs no eval. So an
    expression is passed as ``() => (expression)``: the tests keep their short form and
    the pages keep their real policy."""
    from playwright._impl import frame

    function = re.compile(r"^\s*(async\s+)?(function\b|\([^()]*\)\s*=>|[A-Za-z_$][\w$]*\s*=>)")
    original = frame.Frame.wait_for_function
    if getattr(original, "csp_safe", False):
        return

    async def wait_for_function(self, expression, *args, **kwargs):
        if not function.match(expression):
            expression = f"() => ({expression})"
        return await original(self, expression, *args, **kwargs)

    wait_for_function.csp_safe = True
    frame.Frame.wait_for_function = wait_for_function


_csp_safe_wait_for_function()

ARTIFACTS = ROOT / "var" / "artifacts"
CHROMIUM = os.environ.get("TABOUR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def live_server(tmp_path):
    """A fresh server on SQLite, stopped after the test."""
    server = ServerProcess(f"sqlite:///{tmp_path / 'tabour.sqlite'}", tmp_path / "server.log",
                           ADMIN_PASSWORD, TABOUR_VAR_DIR=str(tmp_path / "var"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: `make setup` installs it")
    b = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True,
                                            args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture
def printer():
    """A virtual network printer (raw TCP on loopback) that answers status queries."""
    p = TcpVirtualPrinter()
    yield p
    p.stop()


@pytest.fixture
def kiosk_server(tmp_path, printer):
    """A server whose embedded printer agent prints on the virtual network printer."""
    server = ServerProcess(f"sqlite:///{tmp_path / 'tabour.sqlite'}", tmp_path / "server.log",
                           ADMIN_PASSWORD, TABOUR_VAR_DIR=str(tmp_path / "var"),
                           TABOUR_AGENT_TRANSPORT=json.dumps(printer.config))
    server.start()
    yield server
    server.stop()


class Admin:
    """The API as the admin of a live server."""

    def __init__(self, server):
        self.url = server.url + "/api/v1"
        self.h = {"Authorization": "Bearer " + server.token()}

    def post(self, path, body=None):
        return requests.post(self.url + path, json=body or {}, headers=self.h, timeout=10)

    def get(self, path):
        return requests.get(self.url + path, headers=self.h, timeout=10).json()

    def ok(self, path, body=None):
        """POST that must succeed: its JSON (None for 204)."""
        r = self.post(path, body)
        assert r.status_code < 400, r.text
        return r.json() if r.status_code != 204 else None

    def wait_printer_online(self, timeout=15.0) -> dict:
        deadline = time.monotonic() + timeout
        printers = []
        while time.monotonic() < deadline:
            printers = self.get("/printers")["printers"]
            if printers and printers[0]["state"] == "online":
                return printers[0]
            time.sleep(0.1)
        raise AssertionError(f"the embedded printer agent never reported online: {printers}")


@pytest.fixture
def admin(kiosk_server):
    return Admin(kiosk_server)


def paired_kiosk(browser, server, admin, viewport=(1080, 1920)):
    """A kiosk page paired the way an agent does it: a code from the admin, typed once.
    Returns (context, page) on the language screen."""
    code = admin.post("/kiosk/pairing-codes", {"kiosk_name": "Entrance"}).json()["code"]
    ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = ctx.new_page()
    page.goto(server.url + "/kiosk/")
    page.fill("#pairing-code", code)
    page.click("#pairing-form button")
    page.wait_for_selector("#languages:not([hidden])")
    return ctx, page


@pytest.fixture
def make_server(tmp_path):
    """Servers with their own environment (a short kiosk idle time, a virtual printer...),
    all stopped after the test. ``make_server(printer=p, TABOUR_KIOSK_IDLE_SECONDS="3")``."""
    started = []

    def make(printer=None, port=None, name="server", **env):
        if printer is not None:
            env.setdefault("TABOUR_AGENT_TRANSPORT", json.dumps(printer.config))
        server = ServerProcess(f"sqlite:///{tmp_path / (name + '.sqlite')}",
                               tmp_path / f"{name}.log", ADMIN_PASSWORD, port=port,
                               TABOUR_VAR_DIR=str(tmp_path / f"var-{name}"), **env)
        server.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def kiosk_page(browser, server, admin, viewport=(1080, 1920), lang=None):
    """A paired kiosk (see paired_kiosk); with ``lang`` it is on that language's services."""
    ctx, page = paired_kiosk(browser, server, admin, viewport)
    if lang:
        page.click(f'.lang-button[data-lang="{lang}"]')
        page.wait_for_selector('.service[data-prefix="A"]')
    return ctx, page
