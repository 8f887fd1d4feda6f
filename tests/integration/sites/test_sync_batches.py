"""A site's batches at the centre, on SQLite and PostgreSQL (the centre's database): the
same batch twice changes nothing; a revoked site, another branch, a gap, a bad checksum
are refused with a clear message and change nothing; a site whose clock ran hours wrong
keeps its times, its order, and gets a warning. The site is a second app in-process
(its own SQLite); the two-process market day is in test_market_day.py."""
from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from queue_server import sites
from queue_server.db import repo
from queue_server.db import schema as s
from queue_server.db.sites_schema import site_batches, sites as sites_table
from queue_server.dossiers.schema import dossiers
from queue_server.engine import syncrules
from queue_server.readmodel import sync as sync_read
from support.api import Api
from support.app import ADMIN_PASSWORD, make_app
from support.clock import FakeClock
from support.sites import SITE, centre_config, valid_insured


class Pair:
    def __init__(self, db_url, tmp_path, site_ahead=timedelta(0)):
        self.centre_clock = FakeClock()
        self.site_clock = FakeClock(self.centre_clock.now + site_ahead)
        cfg = centre_config(tmp_path / "branches.toml")
        self.centre = make_app(db_url, self.centre_clock, config_path=cfg,
                               var_dir=tmp_path / "centre-var")
        self.admin = Api(self.centre).login("admin", ADMIN_PASSWORD)
        r = self.admin.post("/sites", {"branch": SITE, "name": "mobile agency"})
        assert r.status_code == 201, r.get_json()
        self.token, self.token_id, self.tag = (r.get_json()[k] for k in ("token", "token_id",
                                                                        "tag"))
        self.link = Api(self.centre, self.token)
        down = self.link.get("/sync/down").get_json()
        sites.write_join(tmp_path / "site-var", "http://centre.invalid", self.token, down)
        self.site = make_app(f"sqlite:///{tmp_path / 'site.sqlite'}", self.site_clock,
                             var_dir=tmp_path / "site-var")
        self.t = self.site.extensions["tabour"]
        self.t.commands.apply_down(self.t.site.branch_id, down, sites.SYNC_ACTOR)
        self.staff = Api(self.site).login("admin", ADMIN_PASSWORD)
        with self.centre.extensions["tabour"].db.read() as conn:
            self.centre_branch = repo.branch_by_code(conn, SITE).id

    def work(self, tickets=6, dossiers=1):
        for n in (1, 2):
            assert self.staff.post(f"/counters/{n}/open").status_code == 200
        for i in range(tickets):
            r = self.staff.post("/tickets", {"service": "AB"[i % 2], "language": "fr"})
            assert r.status_code == 201, r.get_json()
            self.site_clock.advance(minutes=1)
        for n in (1, 2)[:tickets]:
            assert self.staff.post(f"/counters/{n}/call-next").status_code == 200
        for i in range(dossiers):
            r = self.staff.post("/dossiers", {
                "type": "family_allowances", "insured_number": valid_insured(i),
                "documents": ["claim_form", "national_id_copy"], "language": "fr",
                "idempotency_key": f"deposit-{i:04d}", "print": False})
            assert r.status_code == 201, r.get_json()

    def batch(self, first=1, last=None):
        bid = self.t.site.branch_id
        if last is None:
            with self.t.db.read() as conn:
                last = repo.current_seq(conn, bid)
        payload = sync_read.build_batch(self.t.db, bid, first, last)
        return payload

    def send(self, payload, checksum=None, site_now=None, token=None):
        body = {"site_now": (site_now or self.site_clock()).isoformat(),
                "checksum": checksum or syncrules.checksum(payload), "payload": payload}
        api = self.link if token is None else Api(self.centre, token)
        return api.post("/sync/batches", raw=json.dumps(body, ensure_ascii=False))

    def centre_counts(self):
        with self.centre.extensions["tabour"].db.read() as conn:
            b = self.centre_branch
            return {
                "tickets": conn.execute(select(func.count()).select_from(s.tickets)
                                        .where(s.tickets.c.branch_id == b)).scalar(),
                "events": conn.execute(select(func.count()).select_from(s.events)
                                       .where(s.events.c.branch_id == b)).scalar(),
                "dossiers": conn.execute(select(func.count()).select_from(dossiers)
                                         .where(dossiers.c.branch_id == b)).scalar(),
                "batches": conn.execute(select(func.count()).select_from(site_batches)
                                        .where(site_batches.c.branch_id == b)).scalar(),
                "acked": conn.execute(select(sites_table.c.acked_seq)
                                      .where(sites_table.c.branch_id == b)).scalar(),
            }

    def close(self):
        for app in (self.site, self.centre):
            app.extensions["tabour"].db.dispose()


@pytest.fixture
def pair(db_url, tmp_path):
    p = Pair(db_url, tmp_path)
    yield p
    p.close()


def error(r):
    return r.get_json()["error"]


def test_a_batch_sent_twice_changes_nothing_the_second_time(pair):
    pair.work()
    payload = pair.batch()
    r = pair.send(payload)
    assert r.status_code == 200, r.get_json()
    first = r.get_json()
    assert first["duplicate"] is False and first["acked_seq"] == payload["last_seq"]
    after_one = pair.centre_counts()
    assert after_one["tickets"] == 6 and after_one["dossiers"] == 1
    again = pair.send(copy.deepcopy(payload))
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    assert again.get_json()["acked_seq"] == payload["last_seq"]
    assert pair.centre_counts() == after_one
    # the centre's rows are its own: ids and tracking numbers never the site's keys
    with pair.centre.extensions["tabour"].db.read() as conn:
        tracking_no = conn.execute(select(dossiers.c.tracking).where(
            dossiers.c.branch_id == pair.centre_branch)).scalar()
    assert tracking_no.startswith(pair.tag)


def test_a_revoked_site_is_refused_and_told_so(pair):
    pair.work(tickets=2, dossiers=0)
    r = pair.admin.post(f"/sites/{SITE}/revoke")
    assert r.status_code == 200 and r.get_json()["revoked"] == pair.token_id
    r = pair.send(pair.batch())
    assert r.status_code == 403 and error(r)["code"] == "site_revoked"
    assert "revoked" in error(r)["message"]
    assert pair.centre_counts()["acked"] == 0 and pair.centre_counts()["tickets"] == 0


def test_a_batch_for_another_branch_is_refused(pair):
    pair.work(tickets=2, dossiers=0)
    payload = pair.batch()
    payload["branch"] = "casa-hay-hassani"
    r = pair.send(payload)
    assert r.status_code == 403 and error(r)["code"] == "sync_other_branch"
    assert error(r)["params"] == {"own": SITE, "branch": "casa-hay-hassani"}
    # a staff token of the other branch is not a site either
    r = pair.send(pair.batch(), token=pair.admin.token)
    assert r.status_code == 403 and error(r)["code"] == "site_only"
    assert pair.centre_counts()["tickets"] == 0


def test_a_gap_is_refused_with_where_to_resume(pair):
    pair.work(tickets=4, dossiers=0)
    before = pair.centre_counts()
    payload = pair.batch(first=3)
    r = pair.send(payload)
    assert r.status_code == 409 and error(r)["code"] == "sync_gap"
    assert error(r)["params"] == {"acked": 0, "first": 3, "next": 1}
    assert "send from 1" in error(r)["message"]
    assert pair.centre_counts() == before
    # from the point the centre named, it goes through
    assert pair.send(pair.batch(first=1, last=2)).status_code == 200
    assert pair.send(pair.batch(first=3)).status_code == 200


def test_a_bad_checksum_is_refused_and_nothing_applied(pair):
    pair.work(tickets=3, dossiers=1)
    before = pair.centre_counts()
    payload = pair.batch()
    checksum = syncrules.checksum(payload)
    payload["tickets"][0]["code"] = "A-999"  # altered on the way
    r = pair.send(payload, checksum=checksum)
    assert r.status_code == 400 and error(r)["code"] == "sync_checksum"
    assert pair.centre_counts() == before
    assert before["tickets"] == before["dossiers"] == before["batches"] == before["acked"] == 0


def test_a_site_clock_hours_wrong_keeps_its_times_and_its_order_with_a_warning(
        db_url, tmp_path):
    pair = Pair(db_url, tmp_path, site_ahead=timedelta(hours=3))
    try:
        pair.work(tickets=4, dossiers=0)
        pair.centre_clock.now = pair.site_clock.now - timedelta(hours=3)  # the real time
        payload = pair.batch()
        r = pair.send(payload)
        assert r.status_code == 200, r.get_json()
        warning = r.get_json()["warnings"][0]
        assert warning["code"] == "site_clock_off" and warning["params"]["minutes"] == 180
        with pair.centre.extensions["tabour"].db.read() as conn:
            rows = conn.execute(select(s.events.c.seq, s.events.c.at, s.events.c.data).where(
                s.events.c.branch_id == pair.centre_branch,
                s.events.c.type == "ticket_issued").order_by(s.events.c.seq)).all()
            skew = conn.execute(select(sites_table.c.clock_skew_s).where(
                sites_table.c.branch_id == pair.centre_branch)).scalar()
        site_times = [e["at"] for e in payload["events"] if e["type"] == "ticket_issued"]
        assert [r.at.isoformat() for r in rows] == site_times  # as the site recorded them
        assert [r.data["site_seq"] for r in rows] == sorted(r.data["site_seq"] for r in rows)
        assert skew == 3 * 3600
    finally:
        pair.close()


def test_the_sites_admin_page_shows_its_sync_and_a_centre_is_not_a_site(pair):
    pair.work(tickets=2, dossiers=0)
    status = pair.staff.get("/site/status").get_json()
    assert status["site"] is True and status["pending_events"] > 0
    assert status["last_sync_at"] is None and status["tag"] == pair.tag
    page = pair.site.test_client().get("/admin/").get_data(as_text=True)
    assert 'id="sync-tab"' in page and 'id="sync-now"' in page
    assert pair.admin.get("/site/status").get_json() == {"site": False}
    r = pair.admin.post("/site/sync")
    assert r.status_code == 404 and error(r)["code"] == "not_a_site"
    # the centre's list of its sites
    listed = pair.admin.get("/sites").get_json()["sites"]
    assert [x["branch"] for x in listed] == [SITE] and listed[0]["acked_seq"] == 0


def test_documents_brought_later_change_the_missing_list_not_the_status(pair):
    pair.work(tickets=0, dossiers=1)
    listed = pair.staff.get("/dossiers").get_json()["dossiers"]
    tracking_no = listed[0]["tracking"]
    assert pair.send(pair.batch()).status_code == 200
    r = pair.staff.post(f"/dossiers/{tracking_no}/documents", {"documents": ["bank_details"]})
    assert r.status_code == 200 and "bank_details" not in r.get_json()["missing"]
    r = pair.staff.post(f"/dossiers/{tracking_no}/documents", {"documents": ["passport"]})
    assert r.status_code == 409 and error(r)["code"] == "unknown_documents"
    first = pair.centre_counts()["acked"] + 1
    assert pair.send(pair.batch(first=first)).status_code == 200
    with pair.centre.extensions["tabour"].db.read() as conn:
        row = conn.execute(select(dossiers.c.status, dossiers.c.missing).where(
            dossiers.c.tracking == tracking_no)).first()
    assert row.status == "deposited" and "bank_details" not in row.missing


def test_the_centre_revokes_a_sites_device_at_its_next_sync(pair):
    kiosk = pair.staff.device("kiosk", "souk kiosk")
    assert kiosk.get("/services").status_code == 200
    pair.work(tickets=1, dossiers=0)
    assert pair.send(pair.batch()).status_code == 200
    listed = pair.admin.get(f"/sites/{SITE}/devices").get_json()["devices"]
    mine = [x for x in listed if x["name"] == "souk kiosk"]
    assert len(mine) == 1 and mine[0]["role"] == "kiosk" and not mine[0]["revoked"]
    r = pair.admin.post(f"/sites/{SITE}/devices/{mine[0]['site_token_id']}/revoke")
    assert r.status_code == 200
    r = pair.admin.post(f"/sites/{SITE}/devices/99999/revoke")
    assert r.status_code == 404 and error(r)["code"] == "device_not_found"
    down = pair.link.get("/sync/down").get_json()
    assert down["revoked_site_tokens"] == [mine[0]["site_token_id"]]
    got = pair.t.commands.apply_down(pair.t.site.branch_id, down, sites.SYNC_ACTOR)
    assert got["devices_revoked"] == 1
    r = kiosk.get("/services")
    assert r.status_code == 401 and error(r)["code"] == "token_invalid"
    # the next batch tells the centre it is done
    first = pair.centre_counts()["acked"] + 1
    assert pair.send(pair.batch(first=first)).status_code == 200
    listed = pair.admin.get(f"/sites/{SITE}/devices").get_json()["devices"]
    assert [x["revoked"] for x in listed if x["name"] == "souk kiosk"] == [True]
    assert pair.link.get("/sync/down").get_json()["revoked_site_tokens"] == []


def test_a_malformed_batch_is_refused_with_what_is_wrong_and_nothing_applied(pair):
    pair.work(tickets=2, dossiers=0)
    before = pair.centre_counts()
    cases = []
    bad = pair.batch()
    bad["events"][0]["at"] = "yesterday"
    cases.append(bad)
    bad = pair.batch()
    del bad["tickets"][0]["code"]
    bad["tickets"][0]["issued_at"] = "2026-11-23T08:30:00"  # no time zone
    cases.append(bad)
    bad = pair.batch()
    bad["events"] = bad["events"][1:]  # not the run it says
    cases.append(bad)
    bad = pair.batch()
    bad["tickets"][0]["service_id"] = 9999  # a service the centre does not know
    cases.append(bad)
    for payload in cases:
        r = pair.send(payload)
        assert r.status_code == 400, r.get_json()
        assert error(r)["code"] == "sync_malformed" and "Nothing was applied" in \
            error(r)["message"]
    for body in ({"site_now": "2026-11-23T08:30:00+00:00", "checksum": "0" * 64,
                  "payload": {}},
                 {"site_now": "2026-11-23T08:30:00", "checksum": "0" * 64,
                  "payload": {"branch": SITE}},
                 {"site_now": "now", "checksum": "0", "payload": []}):
        r = pair.link.post("/sync/batches", body)
        assert r.status_code == 400, r.get_json()
    assert pair.centre_counts() == before
    assert pair.send(pair.batch()).status_code == 200


def test_a_batch_travels_gzip_compressed_and_a_bomb_is_refused(pair):
    import gzip
    pair.work(tickets=3, dossiers=1)
    payload = pair.batch()
    body = json.dumps({"site_now": pair.site_clock().isoformat(),
                       "checksum": syncrules.checksum(payload), "payload": payload}).encode()
    wire = gzip.compress(body)
    assert len(wire) < len(body) / 3
    headers = {"Authorization": f"Bearer {pair.token}", "Content-Encoding": "gzip"}
    client = pair.centre.test_client()
    r = client.post("/api/v1/sync/batches", data=wire, headers=headers,
                    content_type="application/json")
    assert r.status_code == 200 and r.get_json()["acked_seq"] == payload["last_seq"]
    for bad in (b"not gzip at all", gzip.compress(b"{" * 100), gzip.compress(b"\0" * 70_000_000)):
        r = client.post("/api/v1/sync/batches", data=bad, headers=headers,
                        content_type="application/json")
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "malformed_json"
