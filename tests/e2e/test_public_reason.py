"""The public dossier page shows a rejection's reason from the catalogs, in the
visitor's language, and never staff's own words (issue 12, defect 6). Real server, real
Chromium, the page's own script rendering it."""
from __future__ import annotations

import requests

from queue_server.dossiers import ids

INSURED = "12345678" + ids.luhn_digit("12345678")
NOTE = "Mme Benali a appelé deux fois"


def test_the_phone_page_shows_the_reason_in_the_visitors_words(live_server, browser):
    h = {"Authorization": "Bearer " + live_server.token()}
    url = live_server.url + "/api/v1"
    r = requests.post(f"{url}/dossiers", headers=h, timeout=10, json={
        "type": "old_age_pension", "insured_number": INSURED, "national_id": "BE123456",
        "documents": ["claim_form"], "language": "ar", "idempotency_key": "e2e-reason-01",
        "print": False})
    assert r.status_code == 201, r.text
    t = r.json()["dossier"]["tracking"]
    for body in ({"action": "receive"}, {"action": "review"},
                 {"action": "reject", "reason": "invalid_documents", "note": NOTE}):
        assert requests.post(f"{url}/dossiers/{t}/transitions", headers=h, json=body,
                             timeout=10).status_code == 200
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    page = ctx.new_page()
    try:
        page.goto(f"{live_server.url}/d/{t}")  # Arabic: the language chosen at the kiosk
        page.wait_for_selector("#reason:not([hidden])")
        assert page.locator("#reason").inner_text() == "إحدى الوثائق غير صالحة أو غير مقروءة."
        page.goto(f"{live_server.url}/d/{t}?lang=fr")
        page.wait_for_selector("#reason:not([hidden])")
        assert page.locator("#reason").inner_text() == \
            "Un document n'est pas valable ou est illisible."
        assert "Benali" not in page.content()
    finally:
        ctx.close()
