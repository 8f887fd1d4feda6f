"""Defect 12, the back office: styled rows (many on a screen), a language switch, Arabic
values beside their labels, a search by insured number, paging, a labelled status filter,
people named (not "user:..." ids)."""
from __future__ import annotations

import requests

from e2e.conftest import ADMIN_PASSWORD
from queue_server.dossiers import ids
from support.screens import axe, serious


def insured(n: int) -> str:
    body = f"{10000000 + n:08d}"
    return body + ids.luhn_digit(body)


def test_12_backoffice_search_paging_language_and_names(live_server, browser, artifacts):
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + live_server.token()
    url = live_server.url
    made = []
    for i in range(27):  # more than a page
        r = s.post(url + "/api/v1/dossiers", timeout=10, json={
            "type": "old_age_pension", "insured_number": insured(i % 9), "language": "fr",
            "documents": ["claim_form"], "idempotency_key": f"bo-test-{i:04d}", "print": False})
        assert r.status_code == 201, r.text
        made.append(r.json()["dossier"])
    target = insured(4)  # three dossiers
    mine = [d["tracking"] for i, d in enumerate(made) if i % 9 == 4]

    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True)
    page = ctx.new_page()
    try:
        page.goto(url + "/backoffice/?lang=fr")
        page.fill("#username", "admin")
        page.fill("#password", ADMIN_PASSWORD)
        page.click("#login-form button")
        page.wait_for_selector("#list tbody tr")
        rows = page.locator("#list tbody tr")
        assert rows.count() == 20, "a page of 20"
        heights = page.eval_on_selector_all("#list tbody tr",
                                            "rs => rs.map(r => r.getBoundingClientRect().height)")
        assert max(heights) < 60, f"rows are compact: {max(heights)} px"
        page.click("#next-page")
        page.wait_for_function("document.querySelectorAll('#list tbody tr').length === 7")
        page.click("#prev-page")
        page.wait_for_function("document.querySelectorAll('#list tbody tr').length === 20")

        # search by insured number
        page.fill("#insured-search", target)
        page.press("#insured-search", "Enter")
        page.wait_for_function("document.querySelectorAll('#list tbody tr').length === 3")
        found = page.eval_on_selector_all("#list tbody tr", "rs => rs.map(r => r.dataset.tracking)")
        assert sorted(found) == sorted(mine)

        # open one, move it: the history names people, not ids
        page.click(f'#list tr[data-tracking="{found[0]}"]')
        page.wait_for_selector('#detail[data-status="deposited"]')
        page.click('#actions button[data-action="receive"]')
        page.wait_for_selector('#detail[data-status="received"]')
        history = page.inner_text("#d-history")
        assert "user:" not in history and "Administrator" in history, history
        assert page.locator('label[for="filter"]').count() == 1, "the status filter is labelled"
        page.screenshot(path=str(artifacts / "backoffice-fr.png"))
        result = serious(axe(page))
        assert not result, result

        # the language switch: Arabic, values beside their labels
        page.click('.langs a[lang="ar"]')
        page.wait_for_function("document.documentElement.lang === 'ar'")
        page.wait_for_selector("#list tbody tr")
        page.click(f'#list tr[data-tracking="{found[0]}"]')
        page.wait_for_selector('#detail[data-status="received"]')
        gaps = page.evaluate("""() => Array.from(document.querySelectorAll('#detail dt')).map(dt => {
            const dd = dt.nextElementSibling, a = dt.getBoundingClientRect(), b = dd.getBoundingClientRect();
            return Math.abs(a.top - b.top) < 4 ? a.left - b.right : Math.abs(a.right - b.right); })""")
        assert max(gaps) < 120, f"values sit beside their labels in Arabic: {gaps}"
        page.screenshot(path=str(artifacts / "backoffice-ar.png"))
    finally:
        ctx.close()
