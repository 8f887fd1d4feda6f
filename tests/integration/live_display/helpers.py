"""Shared bits for the live display tests: an app on SQLite with its own config and var dir."""
from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
BASE_CONFIG = (ROOT / "config" / "branches.toml").read_text(encoding="utf-8")


def app_with(tmp_path, clock, extra_config: str = "", transform=lambda text: text,
             url: str | None = None, **settings):
    from support.app import ADMIN_PASSWORD, make_app
    from support.api import Api
    config = tmp_path / "branches.toml"
    config.write_text(transform(BASE_CONFIG) + "\n" + extra_config, encoding="utf-8")
    app = make_app(url or f"sqlite:///{tmp_path / 'tabour.sqlite'}", clock, config_path=config,
                   var_dir=tmp_path / "var", **settings)
    return app, Api(app).login("admin", ADMIN_PASSWORD), config


def connect(app, token, **auth):
    return app.extensions["tabour"].socketio.test_client(app, auth={"token": token, **auth})


def received(client, name, count=1, timeout=5.0, predicate=lambda p: True):
    """The next ``count`` payloads of ``name`` events (support/sio.py keeps the rest)."""
    from support.sio import inbox
    return inbox(client).wait(name, count, timeout, predicate)


def recorded(tabour, n: int, timeout: float = 10.0) -> None:
    """Wait until the announcements table holds ``n`` rows: a process says its call,
    then records it."""
    import time

    from sqlalchemy import func, select

    from queue_server.db import schema
    deadline = time.monotonic() + timeout
    while True:
        with tabour.db.read() as conn:
            have = conn.execute(select(func.count()).select_from(schema.announcements)).scalar()
        if have >= n or time.monotonic() > deadline:
            assert have == n, f"{have} announcement rows, expected {n}"
            return
        tabour.socketio.sleep(0.05)


def close(app):
    t = app.extensions["tabour"]
    t.serial_counters.close()
    t.db.dispose()
