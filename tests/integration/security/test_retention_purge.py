"""Retention (issue 12: laws 09-08 and 18-07): each kind of personal data has its period
in config/retention.toml; the purge anonymises what is past it, per kind, and records
an event that says what and how much, never the data. Receipt files and the printer
agent's spool rows go too. On SQLite and PostgreSQL; the CLI (`run.py purge`) once."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select

from printers.spool import Spool
from queue_server.db import schema
from queue_server.dossiers import ids
from queue_server.dossiers.schema import dossiers as D
from queue_server.engine.model import Actor
from queue_server.retention import Retention, RetentionError, load, parse
from support.api import Api
from support.app import ADMIN_PASSWORD, make_app
from support.kiosk_printing import Bridge
from support.server import ROOT

INSURED = "12345678" + ids.luhn_digit("12345678")
NEWER = "23456789" + ids.luhn_digit("23456789")
NOTE = "Mme Benali, voir M. Idrissi"
TICKET_NOTE = "visiteur nerveux, M. Alaoui"
SYSTEM = Actor("system", None, "purge")


@pytest.fixture
def var_dir(tmp_path):
    return tmp_path / "var"


@pytest.fixture
def app(db_url, clock, var_dir):
    app = make_app(db_url, clock, var_dir=var_dir)
    yield app
    app.extensions["tabour"].db.dispose()


def deposit(api, insured, key, print_it=False):
    r = api.post("/dossiers", {"type": "old_age_pension", "insured_number": insured,
                               "national_id": "BE123456", "documents": ["claim_form"],
                               "language": "fr", "idempotency_key": key, "print": print_it})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def row(tabour, tracking):
    with tabour.db.read() as conn:
        return conn.execute(select(D).where(D.c.tracking == tracking)).first()


def purged_events(tabour) -> list:
    with tabour.db.read() as conn:
        return conn.execute(select(schema.events).where(
            schema.events.c.type == "personal_data_purged").order_by(schema.events.c.seq)).all()


def test_each_kind_is_purged_after_its_own_period_and_the_purge_is_audited(
        app, clock, var_dir):
    tabour = app.extensions["tabour"]
    api = Api(app).login("admin", ADMIN_PASSWORD)
    kiosk = api.device("kiosk", "entrance")
    printer = Bridge(api, "default")  # the kiosk prints on the branch's default printer
    made = deposit(kiosk, INSURED, "purge-0001", print_it=True)
    t = made["dossier"]["tracking"]
    job_id = made["print"]["job"]["job_id"]
    printer.report("print_result", {"job_id": job_id, "status": "printed"})
    for action in ("receive", "review"):
        api.post(f"/dossiers/{t}/transitions", {"action": action})
    api.post(f"/dossiers/{t}/transitions", {"action": "reject", "reason": "duplicate",
                                            "note": NOTE})
    api.open(1)
    api.issue("A")
    api.call_next(1)
    api.post("/counters/1/start")
    assert api.post("/counters/1/finish", {"outcome": "served", "note": TICKET_NOTE}
                    ).status_code == 200
    # a receipt file and a spool row of the same day, and of today (kept)
    receipts = var_dir / "receipts"
    receipts.mkdir(parents=True, exist_ok=True)
    old_file, new_file = receipts / "old-job.png", receipts / "new-job.png"
    old_file.write_bytes(b"png")
    new_file.write_bytes(b"png")
    then = clock.now.timestamp()
    os.utime(old_file, (then, then))
    spool = Spool(var_dir / "agent" / "spool.sqlite")
    spool.enqueue("old-job", "default", {"tracking": t}, now=then)
    spool.mark_printed("old-job", now=then)
    spool.close()
    retention = Retention(dossier_identity_days=1825, staff_notes_days=365, receipts_days=30)

    # 31 days on: the receipts only
    clock.advance(days=31)
    os.utime(new_file, (clock.now.timestamp(), clock.now.timestamp()))
    counts = tabour.commands.purge_personal_data(1, retention, SYSTEM, var_dir)
    assert counts == {"dossier_identities": 0, "dossier_events": 0, "staff_notes": 0,
                      "receipt_documents": 1, "receipt_files": 1, "spool_rows": 1}
    assert not old_file.exists() and new_file.exists()
    with tabour.db.read() as conn:
        doc = conn.execute(select(schema.print_jobs.c.document).where(
            schema.print_jobs.c.job_id == job_id)).scalar()
    assert doc == {"purged": True}
    staff = Api(app).login("admin", ADMIN_PASSWORD)
    r = staff.post(f"/dossiers/{t}/reprint", {})
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "nothing_to_reprint"
    assert row(tabour, t).internal_note == NOTE and row(tabour, t).insured_number == INSURED

    # a year on: staff's notes (the dossier's, the ticket's); the identity stays
    clock.advance(days=365)
    counts = tabour.commands.purge_personal_data(1, retention, SYSTEM, var_dir)
    assert counts["staff_notes"] == 2 and counts["dossier_identities"] == 0
    assert row(tabour, t).internal_note is None and row(tabour, t).insured_number == INSURED
    with tabour.db.read() as conn:
        assert conn.execute(select(schema.tickets.c.note).where(
            schema.tickets.c.note.is_not(None))).first() is None

    # a newer dossier, then five years after the first one's last change
    clock.advance(days=1825 - 365 - 31 - 10)
    newer = Api(app).login("admin", ADMIN_PASSWORD).device("kiosk", "k2")
    t2 = deposit(newer, NEWER, "purge-0002")["dossier"]["tracking"]
    clock.advance(days=11)
    counts = tabour.commands.purge_personal_data(1, retention, SYSTEM, var_dir)
    assert counts["dossier_identities"] == 1 and counts["dossier_events"] == 1
    old = row(tabour, t)
    assert old.insured_number == "" and old.insured_masked == "" and old.purged_at is not None
    assert old.national_id_hash is None and old.national_id_masked is None
    assert old.status == "rejected" and old.type_code == "old_age_pension"  # reports keep it
    assert row(tabour, t2).insured_number == NEWER  # not past its period
    with tabour.db.read() as conn:
        events = conn.execute(select(schema.events.c.data).where(
            schema.events.c.type.like("dossier_%"))).scalars().all()
    assert INSURED[-3:] not in str([e for e in events if e.get("tracking") == t])
    # nothing left to do: a second purge finds nothing
    again = tabour.commands.purge_personal_data(1, retention, SYSTEM, var_dir)
    assert not any(again.values())

    audit = purged_events(tabour)
    assert len(audit) == 4 and all(e.actor == "system:purge" for e in audit)
    text = str([e.data for e in audit])
    for secret in (INSURED, INSURED[-3:], NEWER, NOTE, TICKET_NOTE, t, t2):
        assert secret not in text
    assert audit[0].data["counts"]["receipt_files"] == 1
    assert audit[0].data["counts"]["spool_rows"] == 1
    assert audit[0].data["retention_days"] == retention.as_dict()
    history = Api(app).login("admin", ADMIN_PASSWORD).get("/admin/history").get_json()["history"]
    assert any(h["type"] == "personal_data_purged" for h in history)


def test_the_retention_file_is_checked():
    assert load(ROOT / "config" / "retention.toml") == Retention(1825, 365, 30)
    assert parse({"retention": {"receipts_days": 7}}).receipts_days == 7
    for bad in ({"receipts_days": 0}, {"receipts_days": "30"}, {"receipts_dayz": 30}):
        with pytest.raises(RetentionError):
            parse({"retention": bad})


def test_run_py_purge(tmp_path):
    var = tmp_path / "var"
    env = {**os.environ, "TABOUR_VAR_DIR": str(var), "TABOUR_DATABASE_URL": "",
           "TABOUR_ADMIN_PASSWORD": "cli-admin-pass"}
    out = subprocess.run([sys.executable, str(ROOT / "run.py"), "purge"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "dossier_identities 0" in out.stdout and "receipts_days 30" in out.stdout
    from queue_server.db.database import Database
    db = Database(f"sqlite:///{var / 'tabour.sqlite'}")
    with db.read() as conn:
        n = conn.execute(select(schema.events.c.id).where(
            schema.events.c.type == "personal_data_purged")).all()
    db.dispose()
    assert len(n) == 1
    bad = tmp_path / "bad.toml"
    bad.write_text("[retention]\nreceipts_days = -1\n")
    out = subprocess.run([sys.executable, str(ROOT / "run.py"), "purge", "--config", str(bad)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "receipts_days" in out.stderr
