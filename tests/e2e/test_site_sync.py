"""A site's administration page in Chromium (README "Sites that work offline"): the "Sync
with the centre" tab says when it last synced and what waits, its button syncs, and with
the centre away it says so in the page's language. A centre's page has no such tab.
Screenshot in var/artifacts/admin-site-sync-fr.png."""
from __future__ import annotations

import requests

from support.server import ServerProcess
from support.sites import SITE, centre_config, run

from .conftest import ADMIN_PASSWORD


def _signed_in(browser, server, lang="fr"):
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    page.goto(f"{server.url}/admin/?lang={lang}#sync")
    page.fill("#username", "admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("#login-submit")
    page.wait_for_function("window.tabourAdmin && window.tabourAdmin.loaded >= 1")
    return ctx, page


def test_the_sites_admin_page_syncs_and_says_when_the_centre_is_away(browser, tmp_path,
                                                                       artifacts):
    cfg = centre_config(tmp_path / "branches.toml")
    centre_env = {"TABOUR_CONFIG": str(cfg), "TABOUR_VAR_DIR": str(tmp_path / "centre-var"),
                  "TABOUR_AGENT": "0"}
    centre = ServerProcess(f"sqlite:///{tmp_path / 'centre.sqlite'}", tmp_path / "centre.log",
                           ADMIN_PASSWORD, **centre_env).start()
    site = None
    contexts = []
    try:
        admin = {"Authorization": f"Bearer {centre.token()}"}
        made = requests.post(centre.url + "/api/v1/sites", json={"branch": SITE},
                             headers=admin, timeout=10).json()
        (tmp_path / "site.token").write_text(made["token"])
        site_env = {"TABOUR_DATABASE_URL": f"sqlite:///{tmp_path / 'site.sqlite'}",
                    "TABOUR_ADMIN_PASSWORD": ADMIN_PASSWORD,
                    "TABOUR_VAR_DIR": str(tmp_path / "site-var"), "TABOUR_AGENT": "0",
                    "TABOUR_SYNC_EVERY_S": "0"}
        done = run(site_env, "site-join", "--centre", centre.url,
                   "--token-file", str(tmp_path / "site.token"))
        assert done.returncode == 0, done.stdout + done.stderr
        site = ServerProcess(site_env["TABOUR_DATABASE_URL"], tmp_path / "site.log",
                             ADMIN_PASSWORD, **site_env).start()
        token = site.token()
        for i in range(3):
            requests.post(site.url + "/api/v1/tickets", json={"service": "A"},
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)

        ctx, page = _signed_in(browser, site)
        contexts.append(ctx)
        page.wait_for_selector("#sync-tab:not([hidden])")
        page.click("#sync-tab")
        page.wait_for_selector("#tab-sync:not([hidden])")
        assert page.inner_text("#sync-last") == "jamais"
        assert page.inner_text("#sync-pending") != "0 événements"
        page.click("#sync-now")
        page.wait_for_function("document.getElementById('sync-pending').textContent === "
                               "'0 événements'")
        assert page.inner_text("#sync-last") != "jamais"
        assert "Synchronisé" in page.inner_text("body")
        page.screenshot(path=str(artifacts / "admin-site-sync-fr.png"), full_page=True)

        centre.stop()
        page.click("#sync-now")
        page.wait_for_function("document.body.textContent.includes('Le centre est injoignable')")
        page.wait_for_function("document.getElementById('sync-error').textContent"
                               ".includes('unreachable')")

        # a centre's own page: no sync tab
        centre = ServerProcess(f"sqlite:///{tmp_path / 'centre.sqlite'}",
                               tmp_path / "centre.log", ADMIN_PASSWORD, port=centre.port,
                               **centre_env).start()
        ctx, page = _signed_in(browser, centre)
        contexts.append(ctx)
        page.wait_for_function("window.tabourAdmin.loaded >= 1")
        assert page.is_hidden("#sync-tab")
    finally:
        for ctx in contexts:
            ctx.close()
        if site is not None:
            site.stop()
        centre.stop()
