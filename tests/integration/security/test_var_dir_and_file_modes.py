"""TABOUR_VAR_DIR moves everything it says it moves (issue 12, defect 9), and what holds
personal data is created owner-only (defect 6): two real server processes started with
two var dirs and no TABOUR_DATABASE_URL share no file; each one's database, receipts
(printed by its embedded printer agent), agent spool, announcement audio and keys are
0600 files in 0700 directories."""
from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import requests

from support.server import ROOT, ServerProcess

PASSWORD = "var-dir-admin-pass"


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def wait_for(predicate, timeout=30.0, what="it"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout}s")


def modes(root: Path) -> dict:
    return {str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode)
            for p in [root, *root.rglob("*")]}


def test_two_var_dirs_share_nothing_and_personal_files_are_owner_only(tmp_path):
    shared_db = ROOT / "var" / "tabour.sqlite"
    before = shared_db.stat().st_mtime_ns if shared_db.exists() else None
    a_dir, b_dir = tmp_path / "a-var", tmp_path / "b-var"
    # no TABOUR_DATABASE_URL: the database belongs in the var dir
    a = ServerProcess("", tmp_path / "a.log", PASSWORD, TABOUR_VAR_DIR=str(a_dir),
                      TABOUR_DATABASE_URL="").start()
    b = ServerProcess("", tmp_path / "b.log", PASSWORD, TABOUR_VAR_DIR=str(b_dir),
                      TABOUR_DATABASE_URL="", TABOUR_AGENT="0").start()
    try:
        assert (a_dir / "tabour.sqlite").is_file() and (b_dir / "tabour.sqlite").is_file()
        ta = a.token()
        r = requests.post(f"{a.url}/api/v1/users", headers=auth(ta), timeout=10,
                          json={"username": "only.on.a", "password": "password-123",
                                "role": "agent"})
        assert r.status_code == 201, r.text
        r = requests.post(f"{b.url}/api/v1/auth/token", timeout=10,
                          json={"username": "only.on.a", "password": "password-123"})
        assert r.status_code == 401  # B has its own database

        # A prints a receipt (its embedded agent, files in A's var dir) and announces a call
        requests.post(f"{a.url}/api/v1/counters/1/open", headers=auth(ta), timeout=10)
        kiosk = requests.post(f"{a.url}/api/v1/devices", headers=auth(ta), timeout=10,
                              json={"role": "kiosk", "name": "entrance"}).json()["token"]
        r = requests.post(f"{a.url}/api/v1/kiosk/tickets", headers=auth(kiosk), timeout=10,
                          json={"service": "A", "language": "fr",
                                "idempotency_key": "var-dir-test-0001"})
        assert r.status_code == 201, r.text
        wait_for(lambda: list((a_dir / "receipts").glob("*.png")), what="a receipt in A's var")
        requests.post(f"{a.url}/api/v1/counters/1/call-next", headers=auth(ta), timeout=10)
        wait_for(lambda: list((a_dir / "audio").glob("*.wav")), what="audio in A's var")
        assert (a_dir / "agent" / "spool.sqlite").is_file()
    finally:
        a.stop()
        b.stop()
    after = shared_db.stat().st_mtime_ns if shared_db.exists() else None
    assert after == before, "the default var/tabour.sqlite was used"
    names_a = {p.name for p in a_dir.rglob("*")}
    assert {"tabour.sqlite", "receipts", "agent", "audio"} <= names_a
    assert not (b_dir / "receipts").exists() and not (b_dir / "agent").exists()
    for root in (a_dir, b_dir):
        loose = {name: oct(m) for name, m in modes(root).items() if m & 0o077}
        assert not loose, f"readable by others in {root.name}: {loose}"
    assert modes(a_dir)["."] == 0o700
    assert modes(a_dir)["tabour.sqlite"] == 0o600
    assert modes(a_dir)["receipts"] == 0o700


def test_an_old_world_readable_database_is_tightened_at_start(tmp_path):
    from queue_server.db.database import Database
    path = tmp_path / "old.sqlite"
    path.write_bytes(b"")
    os.chmod(path, 0o644)
    Database(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
