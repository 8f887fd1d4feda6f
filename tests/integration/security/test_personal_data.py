"""Personal data (issue 12, defect 6): staff's free text never reaches the public page (a
rejection is a reason code the page renders from the catalogs in the visitor's language;
staff's own words are an internal note only staff see); personal answers and pages are
``Cache-Control: no-store``. On SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from queue_server.dossiers import ids

INSURED = "12345678" + ids.luhn_digit("12345678")
NOTE = "Mme Benali a appelé, dossier suspect, voir M. Idrissi"


def deposit(api, key="tap-0001-abc", language="fr"):
    r = api.post("/dossiers", {"type": "old_age_pension", "insured_number": INSURED,
                               "national_id": "BE123456", "documents": ["claim_form"],
                               "language": language, "idempotency_key": key, "print": False})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["dossier"]["tracking"]


def to_review(api, t):
    for action in ("receive", "review"):
        assert api.post(f"/dossiers/{t}/transitions", {"action": action}).status_code == 200


def test_a_rejection_shows_the_catalogs_words_never_staffs(api):
    t = deposit(api, language="fr")
    to_review(api, t)
    # free text as the reason is refused: the visitor would read it
    r = api.post(f"/dossiers/{t}/transitions", {"action": "reject", "reason": NOTE})
    assert r.status_code == 400 and "reason" in r.get_json()["error"]["message"]
    r = api.post(f"/dossiers/{t}/transitions", {"action": "reject", "reason": "deadline_passed",
                                                "note": NOTE})
    assert r.status_code == 200, r.get_json()
    staff = r.get_json()["dossier"]
    assert staff["reason"] == "deadline_passed" and staff["internal_note"] == NOTE
    assert api.get(f"/dossiers/{t}").get_json()["internal_note"] == NOTE

    public = api.as_token(None)
    pub = public.get(f"/public/dossiers/{t}")
    assert pub.get_json()["reason"] == "deadline_passed"
    assert "Benali" not in pub.get_data(as_text=True)
    page = api.client.get(f"/d/{t}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Benali" not in html
    assert "La demande a été faite après le délai." in html  # the French catalog's words
    ar = api.client.get(f"/d/{t}?lang=ar").get_data(as_text=True)
    assert "Benali" not in ar and "deadline_passed" in ar
    # the note is in no event either (events are exported and go to other processes)
    history = api.get(f"/dossiers/{t}").get_json()["history"]
    assert history and "Benali" not in str(history)


def test_incomplete_takes_an_internal_note_too(api):
    t = deposit(api, key="tap-0002-abc")
    to_review(api, t)
    r = api.post(f"/dossiers/{t}/transitions", {"action": "incomplete",
                                                "missing": ["life_certificate"], "note": NOTE})
    assert r.status_code == 200 and r.get_json()["dossier"]["internal_note"] == NOTE
    assert "Benali" not in api.as_token(None).get(f"/public/dossiers/{t}").get_data(as_text=True)
    assert "Benali" not in api.client.get(f"/d/{t}").get_data(as_text=True)


def test_an_old_free_text_reason_is_shown_as_other(api, app):
    """A reason written before the codes (migration 0009 moves it to the note): the public
    page says "ask at a counter", never the old text."""
    from sqlalchemy import update
    from queue_server.dossiers.schema import dossiers
    t = deposit(api, key="tap-0003-abc")
    to_review(api, t)
    api.post(f"/dossiers/{t}/transitions", {"action": "reject", "reason": "other"})
    with app.extensions["tabour"].db.write() as conn:
        conn.execute(update(dossiers).where(dossiers.c.tracking == t).values(reason=NOTE))
    assert api.as_token(None).get(f"/public/dossiers/{t}").get_json()["reason"] == "other"


@pytest.mark.parametrize("path", ["/api/v1/services", "/api/v1/admin/users",
                                  "/api/v1/dossiers?day=today"])
def test_api_answers_are_no_store(api, path):
    r = api.client.get(path, headers={"Authorization": f"Bearer {api.token}"})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"


def test_personal_pages_are_no_store_static_files_keep_their_cache(api):
    t = deposit(api, key="tap-0004-abc")
    c = api.client
    for path in (f"/d/{t}", f"/d/{t}.json", f"/d/{t}/qr.svg", "/d/NOSUCH12",
                 f"/api/v1/public/dossiers/{t}", "/api/v1/public/dossiers/NOSUCH12",
                 "/backoffice/", "/console/", "/dashboard/", "/admin/"):
        r = c.get(path)
        assert r.headers.get("Cache-Control") == "no-store", path
    assert c.get("/t/no-such-ref").headers.get("Cache-Control") == "no-store"
    css = c.get("/backoffice/static/status.css")
    assert css.status_code == 200 and "no-store" not in css.headers.get("Cache-Control", "")
