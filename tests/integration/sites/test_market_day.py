"""A mobile agency's market day, with two real server processes: the centre on PostgreSQL,
the site on SQLite (README "Sites that work offline").

The site joins the centre, then works a day with the centre stopped (tickets, calls,
three dossiers, one deposited incomplete). The centre comes back; the sync is killed
half-way twice (the site process killed while a batch is on its way; the connection cut
in the middle of a request, and again after the centre applied a batch but before the
site heard) and resumed: the counts match exactly at both ends, nothing doubled. The
centre's back office marks a synced dossier incomplete: after the next sync the site's
kiosk lookup shows it, with the missing documents, with the centre unreachable again; a
document brought later at the site reaches the centre as an event of that dossier, the
centre's status standing."""
from __future__ import annotations

import threading

import requests
from sqlalchemy import create_engine, func, select

from queue_server.db.sites_schema import site_batches, site_rows, sites as sites_table
from support.server import ServerProcess
from support.sites import (
    MANAGER, PASSWORD, SITE, CuttingProxy, Http, centre_config, counts, run, site_events,
    valid_insured,
)

def test_a_market_day_offline_then_synced_with_nothing_lost_or_doubled(tmp_path, pg_databases):
    cfg = centre_config(tmp_path / "branches.toml")
    centre_db = pg_databases.new()
    centre_env = {"TABOUR_CONFIG": str(cfg), "TABOUR_VAR_DIR": str(tmp_path / "centre-var"),
                  "TABOUR_AGENT": "0"}
    centre = ServerProcess(centre_db, tmp_path / "centre.log", PASSWORD, **centre_env).start()
    proxy = CuttingProxy(centre.port)
    site = None
    try:
        admin = Http(centre, centre.token())
        made = admin.post("/sites", {"branch": SITE, "name": "Mobile agency"}).json()
        token_file = tmp_path / "site.token"
        token_file.write_text(made["token"])
        done = run({"TABOUR_DATABASE_URL": centre_db, "TABOUR_ADMIN_PASSWORD": PASSWORD,
                    **centre_env}, "create-user", MANAGER[0], "--role", "manager",
                   "--branch", SITE, "--password", MANAGER[1])
        assert done.returncode == 0, done.stderr

        site_db = f"sqlite:///{tmp_path / 'site.sqlite'}"
        site_env = {"TABOUR_DATABASE_URL": site_db, "TABOUR_ADMIN_PASSWORD": PASSWORD,
                    "TABOUR_VAR_DIR": str(tmp_path / "site-var"), "TABOUR_AGENT": "0",
                    "TABOUR_SYNC_EVERY_S": "0", "TABOUR_SYNC_BATCH_EVENTS": "25",
                    # no printer agent here: its print jobs would turn "not_taken" (an
                    # event of the site's own) 120 s after printing, which on a loaded
                    # machine fell between the last sync and the status check (CI)
                    "TABOUR_PRINT_TAKE_TIMEOUT_S": "3600"}
        done = run(site_env, "site-join", "--centre", proxy.url, "--token-file", str(token_file))
        assert done.returncode == 0, done.stdout + done.stderr
        assert oct((tmp_path / "site.sqlite").stat().st_mode & 0o777) == "0o600"
        assert oct((tmp_path / "site-var" / "site.token").stat().st_mode & 0o777) == "0o600"

        centre.stop()  # the market: no link all day
        site = ServerProcess(site_db, tmp_path / "site.log", PASSWORD, **site_env).start()
        staff = Http(site, site.token())
        # the centre's manager of the site's branch came down with the configuration
        Http(site, site.token(*MANAGER))
        for n in range(1, 7):
            staff.post(f"/counters/{n}/open")
        issued = [staff.post("/tickets", {"service": "ABD"[i % 3], "language": "ar"}).json()
                  for i in range(36)]
        served, turn = 0, 0
        while served < 25:
            n = 1 + turn % 6
            turn += 1
            if staff.post(f"/counters/{n}/call-next", ok=(200, 204)).status_code == 204:
                continue
            if served == 24:  # the last one called never comes
                staff.post(f"/counters/{n}/no-show")
                break
            staff.post(f"/counters/{n}/start")
            staff.post(f"/counters/{n}/finish", {"outcome": "served"})
            served += 1
        deposits = []
        for i, docs in enumerate([
                ["claim_form", "national_id_copy", "birth_certificates", "bank_details"],
                ["claim_form", "national_id_copy", "birth_certificates", "bank_details"],
                ["claim_form", "national_id_copy"]]):  # the third is deposited incomplete
            deposits.append(staff.post("/dossiers", {
                "type": "family_allowances", "insured_number": valid_insured(i),
                "documents": docs, "language": "ar", "idempotency_key": f"souk-{i:04d}",
                "print": False}).json()["dossier"])
        tag = made["tag"]
        assert all(x["tracking"].startswith(tag) for x in deposits)
        assert len(deposits[2]["missing"]) == 2
        assert {t["code"] for t in issued} >= {"A-001", "B-001", "D-001"}

        # no centre: the sync says so, and the day is kept
        r = staff.post("/site/sync", ok=(502,))
        assert r.json()["error"]["code"] == "centre_unreachable"
        status = staff.get("/site/status")
        assert status["pending_events"] > 100 and "unreachable" in status["last_error"]
        assert status["last_sync_at"] is None

        centre = ServerProcess(centre_db, tmp_path / "centre.log", PASSWORD, port=centre.port,
                               **centre_env).start()
        # 1. the site process killed while its second batch is on its way
        proxy.on_batch(2, "hold")
        def sync_killed():
            try:
                requests.post(site.url + "/api/v1/site/sync", headers=staff.h, timeout=60)
            except requests.RequestException:
                pass  # the site process dies under it

        threading.Thread(target=sync_killed, daemon=True).start()
        assert proxy.held.wait(60)
        site.kill9()
        proxy.release.set()  # the held batch reaches the centre; nobody hears the answer
        site = ServerProcess(site_db, tmp_path / "site.log", PASSWORD, port=site.port,
                             **site_env).start()
        staff = Http(site, site.token())
        # 2. the connection cut half-way through a request
        proxy.on_batch(1, "cut_request")
        r = staff.post("/site/sync", ok=(502,))
        assert "unreachable" in r.json()["error"]["message"]
        # 3. the connection cut after the centre applied a batch, before the site heard
        proxy.on_batch(2, "cut_response")
        staff.post("/site/sync", ok=(502,))
        result = staff.post("/site/sync").json()
        assert result["status"]["pending_events"] == 0, result

        at_site, at_centre = counts(site_db), counts(centre_db)
        assert at_centre["tickets"] == at_site["tickets"] and len(at_site["tickets"]) == 36
        assert at_centre["dossiers"] == at_site["dossiers"] and len(at_site["dossiers"]) == 3
        centre_site_seqs = [d["site_seq"] for _t, d in at_centre["events"] if "site_seq" in d]
        assert len(centre_site_seqs) == len(set(centre_site_seqs))  # nothing doubled
        assert sorted(t for t, d in at_centre["events"] if "site_seq" in d) == \
            sorted(site_events(at_site))
        engine = create_engine(centre_db)
        with engine.connect() as conn:
            b = at_centre["branch_id"]
            acked = conn.execute(select(sites_table.c.acked_seq)
                                 .where(sites_table.c.branch_id == b)).scalar()
            batches = conn.execute(select(func.count()).select_from(site_batches)
                                   .where(site_batches.c.branch_id == b)).scalar()
            mapped = conn.execute(select(func.count()).select_from(site_rows)
                                  .where(site_rows.c.branch_id == b)).scalar()
        engine.dispose()
        assert acked == at_site["seq"] and mapped == 36 + 3
        assert batches == -(-at_site["seq"] // 25)  # each batch applied once

        # the centre's back office: the synced dossiers like any branch's, with when
        # they arrived; it marks the incomplete one and receives another
        nadia = Http(centre, centre.token(*MANAGER))
        listed = nadia.get("/dossiers")["dossiers"]
        assert sorted(x["tracking"] for x in listed) == sorted(x["tracking"] for x in deposits)
        opened = nadia.get(f"/dossiers/{deposits[2]['tracking']}")
        assert opened["arrived"]["first"] is not None
        incomplete = deposits[2]["tracking"]
        for action in ("receive", "review"):
            nadia.post(f"/dossiers/{incomplete}/transitions", {"action": action})
        nadia.post(f"/dossiers/{incomplete}/transitions",
                   {"action": "incomplete", "missing": ["birth_certificates", "bank_details"]})
        nadia.post(f"/dossiers/{deposits[0]['tracking']}/transitions", {"action": "receive"})
        day = at_site["tickets"][0][0]
        totals = nadia.get("/reports", **{"from": day, "to": day, "grain": "day"})["totals"]
        # the site's day is in the centre's reports like any branch's
        assert totals["arrivals"] == 36 and totals["served"] == 24

        result = staff.post("/site/sync").json()["result"]
        assert result["received"]["decisions"] == 2
        centre.stop()  # unreachable again: the site shows what the centre decided
        public = requests.get(f"{site.url}/api/v1/public/dossiers/{incomplete}", timeout=10)
        assert public.status_code == 200
        view = public.json()
        assert view["status"] == "incomplete"
        assert [m["code"] for m in view["missing"]] == ["birth_certificates", "bank_details"]
        assert requests.get(f"{site.url}/api/v1/public/dossiers/{deposits[0]['tracking']}",
                            timeout=10).json()["status"] == "received"
        page = requests.get(f"{site.url}/d/{incomplete}", timeout=10)
        assert page.status_code == 200

        # a document brought later at the site: an event of that dossier, sent up; the
        # centre's status stands
        staff.post(f"/dossiers/{incomplete}/documents", {"documents": ["bank_details"]})
        centre = ServerProcess(centre_db, tmp_path / "centre.log", PASSWORD, port=centre.port,
                               **centre_env).start()
        staff.post("/site/sync")
        nadia = Http(centre, centre.token(*MANAGER))
        opened = nadia.get(f"/dossiers/{incomplete}")
        assert opened["status"] == "incomplete"
        assert [m["code"] for m in opened["missing"]] == ["birth_certificates"]
        assert "dossier_documents_brought" in [h["type"] for h in opened["history"]]
        # and the site's status page says it is all there
        status = staff.get("/site/status")
        assert status["pending_events"] == 0 and status["last_error"] is None
    finally:
        proxy.close()
        if site is not None:
            site.stop()
        centre.stop()
