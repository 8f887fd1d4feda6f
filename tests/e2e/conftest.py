"""e2e: a real server process (run.py, gevent) and real Chromium through Playwright.

Chromium is Debian's (/usr/bin/chromium); Playwright never downloads a browser.
Screenshots and other artefacts go to var/artifacts/ (git-ignored).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from support.server import ROOT, ServerProcess

ADMIN_PASSWORD = "admin-pass-for-e2e"
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
