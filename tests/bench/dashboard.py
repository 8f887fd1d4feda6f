"""The live dashboard's figures (``measure_dashboard``), on a busy branch with 50 waiting
(6 counters open, each holding a ticket, a morning of 60 visits served):

- ``dashboard_snapshot_ms_50_waiting``: a manager's Socket.IO connect (view "dashboard")
  to its ``snapshot`` received, through a real server process (gevent, SQLite), 150
  connects one after the other (the earlier ones stay connected, as dashboards left
  open do); the snapshot carries the live picture, the alert list and today's last
  figures;
- ``dashboard_snapshot_build_ms``: building that snapshot in-process (projection read,
  presenters, alert texts in three languages), 500 samples;
- ``dashboard_today_ms``: ``reports.today`` on that day (computed off the request path,
  at most every max(2 s, 10x its cost) per branch while events come), 50 samples;
- ``dashboard_live_build_ms``: the ``dashboard_live`` picture pushed after each batch.
"""
from __future__ import annotations

import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.stats import summary

PASSWORD = "bench-admin-password"
WAITING = 50


def _fill(url: str, token: str) -> None:
    """A morning through the API: 60 visits served on 6 counters, then 50 waiting."""
    import requests
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + token
    api = url + "/api/v1"

    def post(path, body=None):
        r = s.post(api + path, json=body or {}, timeout=30)
        if r.status_code >= 400 and r.status_code != 204:
            raise RuntimeError(f"{path}: {r.status_code} {r.text}")
        return r
    for n in range(1, 7):
        post(f"/counters/{n}/open")
    rng = random.Random(7)
    for i in range(60):
        post("/tickets", {"service": "ABCDE"[i % 5], "language": "fr"})
    for _round in range(12):
        for n in range(1, 7):
            if post(f"/counters/{n}/call-next").status_code == 204:
                continue
            post(f"/counters/{n}/start")
            post(f"/counters/{n}/finish", {"outcome": rng.choice(["served", "redirected"])})
    for i in range(WAITING + 6):
        post("/tickets", {"service": "ABCDE"[i % 5], "language": "fr",
                          "priority": "elderly" if i % 10 == 0 else False})
    for n in range(1, 7):  # every counter holds a ticket
        post(f"/counters/{n}/call-next")
    post("/users", {"username": "bench.manager", "password": "bench-manager-1",
                    "role": "manager"})


def _connects(url: str, token: str, n: int) -> list[float]:
    """Connect ``n`` dashboards one after the other; each: connect to snapshot received.
    They stay connected until the end (disconnecting costs nothing measured)."""
    import asyncio

    import socketio

    async def run():
        out, clients = [], []
        for _ in range(n):
            got = asyncio.get_running_loop().create_future()
            c = socketio.AsyncClient(reconnection=False)

            @c.on("snapshot")
            async def _snap(_snap, got=got):
                if not got.done():
                    got.set_result(time.perf_counter())
            t0 = time.perf_counter()
            await c.connect(url, auth={"token": token, "view": "dashboard", "lang": "fr"},
                            transports=["websocket"], wait_timeout=10)
            out.append((await asyncio.wait_for(got, 5) - t0) * 1000)
            clients.append(c)
        await asyncio.gather(*(c.disconnect() for c in clients))
        return out
    return asyncio.run(run())


def _in_process(db_url: str) -> dict:
    """The same database, read in this process: what building each part costs."""
    from queue_server import reports
    from queue_server.app import create_app
    from queue_server.readmodel import dashboard as D
    from queue_server.readmodel import presenters as P
    from queue_server.settings import Settings
    app = create_app(Settings(database_url=db_url, async_mode="threading", migrate=False,
                              serial_now=False, forecast_sync=False))
    t = app.extensions["tabour"]
    try:
        p = t.view(1)
        waiting = len(p.index)
        with t.db.read() as conn:
            reports.today(conn, 1, t.now())  # warm
        t.dashboard.refresh_today(1)
        build, live, today = [], [], []
        for i in range(500):
            now = t.now()
            t0 = time.perf_counter()
            with t.projections.lock(1):
                snap = P.snapshot(p, "dashboard", now, t.estimator)
                snap["dashboard"] = t.dashboard.snapshot(1)
            build.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            with t.projections.lock(1):
                D.live(p, now, t.estimator)
            live.append((time.perf_counter() - t0) * 1000)
        for _ in range(50):
            t0 = time.perf_counter()
            with t.db.read() as conn:
                figures = reports.today(conn, 1, t.now())
            today.append((time.perf_counter() - t0) * 1000)
        return {"dashboard_snapshot_build_ms": summary(build, 3),
                "dashboard_live_build_ms": summary(live, 3),
                "dashboard_today_ms": summary(today),
                "dashboard_waiting": waiting,
                "dashboard_today_tickets": figures["totals"]["issued"]}
    finally:
        t.db.dispose()


def measure_dashboard(work: Path | None = None) -> dict:
    from support.server import ServerProcess
    work = Path(work or tempfile.mkdtemp(prefix="bench-dash-"))
    db_url = f"sqlite:///{work / 'dashboard.sqlite'}"
    server = ServerProcess(db_url, work / "dashboard.log", PASSWORD, TABOUR_AGENT="0",
                           TABOUR_VAR_DIR=str(work / "var")).start()
    try:
        _fill(server.url, server.token())
        manager = server.token("bench.manager", "bench-manager-1")
        _connects(server.url, manager, 10)  # warm-up
        connects = _connects(server.url, manager, 150)
    finally:
        server.stop()
    return {"dashboard_snapshot_ms_50_waiting": summary(connects), **_in_process(db_url)}
