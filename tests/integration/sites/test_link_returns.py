"""The site process syncs by itself when the link returns (two real processes: the centre
on PostgreSQL, the site on SQLite with its background loop), and `run.py sync` does it by
hand."""
from __future__ import annotations

import time

from support.server import ServerProcess
from support.sites import PASSWORD, SITE, Http, centre_config, counts, run


def wait_for(check, timeout_s: float = 60.0):
    """Poll the site's status page until ``check`` holds (the loop has no event to await)."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, "the site did not sync in time"
        time.sleep(0.2)


def test_the_site_syncs_when_the_link_returns_and_by_hand(tmp_path, pg_databases):
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
                    "TABOUR_SYNC_EVERY_S": "3600", "TABOUR_SYNC_RETRY_S": "0.5"}
        done = run(site_env, "site-join", "--centre", centre.url,
                   "--token-file", str(tmp_path / "site.token"))
        assert done.returncode == 0, done.stdout + done.stderr
        centre.stop()
        site = ServerProcess(site_db, tmp_path / "site.log", PASSWORD, **site_env).start()
        staff = Http(site, site.token())
        for i in range(5):
            staff.post("/tickets", {"service": "AB"[i % 2], "language": "fr"})
        # the loop tried at start and failed: it says so
        wait_for(lambda: (staff.get("/site/status")["last_error"] or "").find("unreachable")
                 >= 0)
        centre = ServerProcess(centre_db, tmp_path / "centre.log", PASSWORD, port=centre.port,
                               **centre_env).start()
        # the link is back: within the retry period, without anyone asking
        status = wait_for(lambda: (lambda st: st if st["last_sync_at"] and
                                   st["pending_events"] == 0 else None)(
            staff.get("/site/status")))
        assert status["last_error"] is None
        assert len(counts(centre_db)["tickets"]) == 5

        # by hand, while the site's server runs
        staff.post("/tickets", {"service": "A", "language": "fr"})
        done = run(site_env, "sync")
        assert done.returncode == 0, done.stdout + done.stderr
        assert len(counts(centre_db)["tickets"]) == 6
        centre.stop()
        done = run(site_env, "sync")
        assert done.returncode != 0 and "unreachable" in done.stderr
    finally:
        if site is not None:
            site.stop()
        centre.stop()
