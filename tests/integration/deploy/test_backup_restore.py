"""run.py backup while the server runs and issues tickets, run.py restore into a fresh
database, a server on it: the tickets up to the backup are there, the later ones are
not, and numbering continues without a duplicate. SQLite and PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid

import psycopg
import pytest
import requests

from support.databases import PG_ADMIN
from support.server import ROOT, ServerProcess
from support.topology import auth

PASSWORD = "backup-admin-pass"


def run_py(*args, database_url, check=True):
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), *args], cwd=ROOT,
                          env={**os.environ, "TABOUR_DATABASE_URL": database_url},
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(params=["sqlite", "postgres"])
def two_databases(request, tmp_path):
    """The database the server runs on, and a fresh EMPTY one to restore into."""
    if request.param == "sqlite":
        return (f"sqlite:///{tmp_path / 'live.sqlite'}",
                f"sqlite:///{tmp_path / 'restored' / 'tabour.sqlite'}")
    dbs = request.getfixturevalue("pg_databases")
    name = f"tabour_r_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dbs.created.append(name)  # dropped with the others at the end of the session
    return dbs.new(), PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def test_backup_while_running_then_restore(two_databases, tmp_path):
    live, fresh = two_databases
    env = {"TABOUR_AGENT": "0", "TABOUR_VAR_DIR": str(tmp_path / "var")}
    server = ServerProcess(live, tmp_path / "live.log", PASSWORD, **env).start()
    try:
        h = auth(server.token())

        def issue(service="A"):
            r = requests.post(f"{server.url}/api/v1/tickets", headers=h, timeout=10,
                              json={"service": service})
            assert r.status_code == 201, r.text
            return r.json()

        before = [issue("AB"[i % 2]) for i in range(8)]
        assert requests.post(f"{server.url}/api/v1/counters/1/open", headers=h,
                             timeout=5).status_code == 200
        called = requests.post(f"{server.url}/api/v1/counters/1/call-next", headers=h,
                               timeout=5).json()

        # tickets keep coming while the backup runs: it must still be consistent
        during: list[dict] = []
        stop = threading.Event()

        def keep_issuing():
            while not stop.is_set():
                during.append(issue())
        (tmp_path / "backups").mkdir()
        load = threading.Thread(target=keep_issuing)
        load.start()
        try:
            run_py("backup", "--to", str(tmp_path / "backups"), "--keep", "3",
                   database_url=live)
        finally:
            stop.set()
            load.join(10)
        files = list((tmp_path / "backups").iterdir())
        assert len(files) == 1 and files[0].name.startswith("tabour-"), files
        after = [issue() for _ in range(4)]
    finally:
        server.stop()

    # a restore asks first when nobody said --yes
    refused = run_py("restore", "--from", str(files[0]), database_url=fresh, check=False)
    assert refused.returncode != 0 and "--yes" in refused.stderr
    run_py("restore", "--from", str(files[0]), "--yes", database_url=fresh)

    restored = ServerProcess(fresh, tmp_path / "restored.log", PASSWORD, **env).start()
    try:
        h = auth(restored.token())

        def get(tid):
            return requests.get(f"{restored.url}/api/v1/tickets/{tid}", headers=h, timeout=5)

        for t in before:
            r = get(t["id"])
            assert r.status_code == 200 and r.json()["code"] == t["code"], t["code"]
        assert get(called["id"]).json()["status"] == "called"
        for t in after:
            assert get(t["id"]).status_code == 404, f"{t['code']} was issued after the backup"
        kept_during = [t for t in during if get(t["id"]).status_code == 200]
        # the backup is one snapshot: the tickets it has are a prefix of those issued
        assert kept_during == during[:len(kept_during)]

        new = requests.post(f"{restored.url}/api/v1/tickets", headers=h, timeout=5,
                            json={"service": "A"}).json()
        known_a = [t for t in before + kept_during if t["service"] == "A"]
        highest = max(int(t["code"].split("-")[1]) for t in known_a)
        assert int(new["code"].split("-")[1]) == highest + 1
        codes = [get(i).json()["code"] for i in range(1, new["id"] + 1)
                 if get(i).status_code == 200]
        assert len(codes) == len(set(codes)), "a number was given twice after the restore"
    finally:
        restored.stop()


def test_keep_prunes_the_oldest_backups_only(tmp_path):
    """--keep N: the newest N files this tool made stay; nothing else is touched."""
    sqlite_url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    import sqlite3
    with sqlite3.connect(tmp_path / "db.sqlite") as conn:
        conn.execute("CREATE TABLE alembic_version (version_num TEXT)")
    conn.close()
    from deploy.backup import backup
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a backup")
    made = [backup(sqlite_url, folder, keep=3) for _ in range(5)]
    assert len(set(made)) == 5
    left = sorted(p.name for p in folder.iterdir())
    assert left == sorted([m.name for m in made[-3:]] + ["notes.txt"])
