"""A centre restored from a backup asks the site to resend from the centre's last
acknowledged point, and gets it: two real processes, the centre on PostgreSQL (run.py
backup and restore), the site on SQLite."""
from __future__ import annotations

from support.server import ServerProcess
from support.sites import PASSWORD, SITE, Http, centre_config, counts, run, site_events


def test_a_centre_restored_from_a_backup_gets_the_site_s_events_again(tmp_path, pg_databases):
    cfg = centre_config(tmp_path / "branches.toml")
    centre_db = pg_databases.new()
    centre_env = {"TABOUR_CONFIG": str(cfg), "TABOUR_VAR_DIR": str(tmp_path / "centre-var"),
                  "TABOUR_AGENT": "0"}
    centre = ServerProcess(centre_db, tmp_path / "centre.log", PASSWORD, **centre_env).start()
    site = None
    try:
        made = Http(centre, centre.token()).post("/sites", {"branch": SITE}).json()
        (tmp_path / "site.token").write_text(made["token"])
        site_db = f"sqlite:///{tmp_path / 'site.sqlite'}"
        site_env = {"TABOUR_DATABASE_URL": site_db, "TABOUR_ADMIN_PASSWORD": PASSWORD,
                    "TABOUR_VAR_DIR": str(tmp_path / "site-var"), "TABOUR_AGENT": "0",
                    "TABOUR_SYNC_EVERY_S": "0", "TABOUR_SYNC_BATCH_EVENTS": "10"}
        done = run(site_env, "site-join", "--centre", centre.url,
                   "--token-file", str(tmp_path / "site.token"))
        assert done.returncode == 0, done.stdout + done.stderr
        site = ServerProcess(site_db, tmp_path / "site.log", PASSWORD, **site_env).start()
        staff = Http(site, site.token())
        for i in range(8):
            staff.post("/tickets", {"service": "AB"[i % 2], "language": "fr"})
        staff.post("/site/sync")
        db_env = {"TABOUR_DATABASE_URL": centre_db, **centre_env}
        done = run(db_env, "backup", "--to", str(tmp_path / "centre.dump"))
        assert done.returncode == 0, done.stderr
        acked_at_backup = staff.get("/site/status")["acked_seq"]

        for i in range(12):
            staff.post("/tickets", {"service": "AB"[i % 2], "language": "fr"})
        staff.post("/site/sync")
        assert staff.get("/site/status")["acked_seq"] > acked_at_backup

        centre.stop()
        done = run(db_env, "restore", "--from", str(tmp_path / "centre.dump"), "--yes")
        assert done.returncode == 0, done.stdout + done.stderr
        centre = ServerProcess(centre_db, tmp_path / "centre.log", PASSWORD, port=centre.port,
                               **centre_env).start()
        # the restored centre has 8 tickets; it says so, and the site sends the rest again
        assert len(counts(centre_db)["tickets"]) == 8
        result = staff.post("/site/sync").json()["result"]
        at_site = counts(site_db)
        assert result["sent"]["events"] == at_site["seq"] - acked_at_backup
        at_centre = counts(centre_db)
        assert at_centre["tickets"] == at_site["tickets"] and len(at_site["tickets"]) == 20
        seqs = [d["site_seq"] for _t, d in at_centre["events"] if "site_seq" in d]
        assert len(seqs) == len(set(seqs))
        assert sorted(t for t, d in at_centre["events"] if "site_seq" in d) == \
            sorted(site_events(at_site))
        assert staff.get("/site/status")["pending_events"] == 0
    finally:
        if site is not None:
            site.stop()
        centre.stop()
