"""Bench part "sync": a site's busy day sent to its centre over loopback (README "Sites that
work offline").

The centre is a real server process on PostgreSQL; the site is the app in this process on
SQLite (its day made through the API by Flask's test client, then its ``SiteLink`` talks
HTTP to the centre). Figures:

- ``sync_day_s``, ``sync_day_bytes_up`` (gzip, on the wire; ``_uncompressed``: the JSON)
  / ``_down``, ``sync_day_batches``: one busy day
  (1,500 tickets called, served or not, 50 dossiers) from nothing at the centre;
- ``sync_resume_s``: the same day to a second centre, the link cut in the middle of a
  batch half-way; the time of the sync that resumes and finishes it, and what it sent.
Each is one run (one sample): a maximum of one.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path

PASSWORD = "bench-admin-password"


def _site_app(db_file: Path, var: Path):
    from support.app import make_app
    from queue_server.clock import utcnow
    return make_app(f"sqlite:///{db_file}", utcnow, var_dir=var)


def _make_day(app, tickets: int, dossiers: int) -> dict:
    from support.api import Api
    from support.app import ADMIN_PASSWORD
    from support.sites import valid_insured
    staff = Api(app).login("admin", ADMIN_PASSWORD)
    for n in range(1, 7):
        assert staff.post(f"/counters/{n}/open").status_code == 200
    for i in range(tickets):
        r = staff.post("/tickets", {"service": "ABCDE"[i % 5], "language": "ar"})
        assert r.status_code == 201, r.get_json()
    served = no_show = 0
    idle = 0
    turn = 0
    while idle < 6:
        n = 1 + turn % 6
        turn += 1
        r = staff.post(f"/counters/{n}/call-next")
        if r.status_code == 204:
            idle += 1
            continue
        idle = 0
        if turn % 25 == 0:
            staff.post(f"/counters/{n}/no-show")
            no_show += 1
            continue
        staff.post(f"/counters/{n}/start")
        staff.post(f"/counters/{n}/finish", {"outcome": "served"})
        served += 1
    for i in range(dossiers):
        docs = ["claim_form", "national_id_copy", "birth_certificates", "bank_details"]
        r = staff.post("/dossiers", {
            "type": "family_allowances", "insured_number": valid_insured(i),
            "documents": docs if i % 5 else docs[:2], "language": "ar",
            "idempotency_key": f"bench-{i:05d}", "print": False})
        assert r.status_code == 201, r.get_json()
    t = app.extensions["tabour"]
    from queue_server.db import repo
    with t.db.read() as conn:
        seq = repo.current_seq(conn, t.site.branch_id)
    return {"tickets": tickets, "served": served, "no_show": no_show, "dossiers": dossiers,
            "events": seq}


def _centre(dbs, cfg: Path, work: Path, name: str):
    from support.server import ServerProcess
    from support.sites import SITE
    import requests
    server = ServerProcess(dbs.new(), work / f"centre-{name}.log", PASSWORD, TABOUR_AGENT="0",
                           TABOUR_CONFIG=str(cfg),
                           TABOUR_VAR_DIR=str(work / f"centre-{name}-var")).start()
    r = requests.post(server.url + "/api/v1/sites", json={"branch": SITE},
                      headers={"Authorization": f"Bearer {server.token()}"}, timeout=30)
    r.raise_for_status()
    return server, r.json()["token"]


def measure_sync(work: Path, tickets: int = 1500, dossiers: int = 50) -> dict:
    import requests

    from queue_server import sites
    from support.databases import PostgresDatabases, require_pg
    from support.sites import CuttingProxy, centre_config
    require_pg()
    dbs = PostgresDatabases()
    cfg = centre_config(work / "branches.toml")
    servers = []
    try:
        centre, token = _centre(dbs, cfg, work, "a")
        servers.append(centre)
        var = work / "site-var"
        down = requests.get(centre.url + "/api/v1/sync/down",
                            headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
        sites.write_join(var, centre.url, token, down)
        db_file = work / "site.sqlite"
        app = _site_app(db_file, var)
        t = app.extensions["tabour"]
        t.commands.apply_down(t.site.branch_id, down, sites.SYNC_ACTOR)
        t0 = time.perf_counter()
        day = _make_day(app, tickets, dossiers)
        make_s = time.perf_counter() - t0
        # a copy of the day for the second centre, before anything is sent
        copy_file, copy_var = work / "site-b.sqlite", work / "site-b-var"
        with sqlite3.connect(db_file) as src, sqlite3.connect(copy_file) as dst:
            src.backup(dst)
        # the announcement audio is a cache (and pruned while the copy runs): not copied
        shutil.copytree(var, copy_var, ignore=shutil.ignore_patterns("audio"))

        t0 = time.perf_counter()
        full = t.site.sync()
        day_s = time.perf_counter() - t0
        down_bytes = t.site.received_bytes
        t.db.dispose()

        centre_b, token_b = _centre(dbs, cfg, work, "b")
        servers.append(centre_b)
        proxy = CuttingProxy(centre_b.port)
        (copy_var / sites.TOKEN_FILE).write_text(token_b)
        site_json = json.loads((copy_var / sites.SITE_FILE).read_text())
        (copy_var / sites.SITE_FILE).write_text(json.dumps(site_json | {"centre": proxy.url}))
        app_b = _site_app(copy_file, copy_var)
        tb = app_b.extensions["tabour"]
        batches = full["sent"]["batches"]
        proxy.on_batch(batches // 2 + 1, "cut_request")
        try:
            tb.site.sync()
            raise RuntimeError("the cut sync went through")
        except sites.SyncFailed:
            pass
        t0 = time.perf_counter()
        resumed = tb.site.sync()
        resume_s = time.perf_counter() - t0
        proxy.close()
        tb.db.dispose()
        return {"sync": {
            "day": day, "make_day_s": round(make_s, 1),
            "sync_day_s": {"max": round(day_s, 3), "n": 1},
            "sync_day_bytes_up": full["sent"]["bytes"],
            "sync_day_bytes_up_uncompressed": full["sent"]["json_bytes"],
            "sync_day_bytes_down": down_bytes,
            "sync_day_batches": batches, "batch_events": t.site.batch_events,
            "sync_resume_s": {"max": round(resume_s, 3), "n": 1},
            "sync_resume_events": resumed["sent"]["events"],
            "sync_resume_bytes_up": resumed["sent"]["bytes"],
            "centre": "1 gevent process, PostgreSQL", "site": "in-process app, SQLite",
        }}
    finally:
        for server in servers:
            server.stop()
        dbs.close()
