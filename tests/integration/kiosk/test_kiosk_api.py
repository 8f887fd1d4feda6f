"""Kiosk pairing, kiosk tickets (idempotent, closed services), print jobs and the phone page."""
from __future__ import annotations

import pytest

from support.api import Api


@pytest.fixture
def app(sqlite_url, clock):
    from support.kiosk_printing import make_app
    app = make_app(sqlite_url, clock)
    yield app
    app.extensions["tabour"].db.dispose()


def pair(api, name="Kiosk entrance", printer=None) -> Api:
    r = api.post("/kiosk/pairing-codes", {"kiosk_name": name, **({"printer": printer} if printer else {})})
    assert r.status_code == 201, r.get_json()
    code = r.get_json()["code"]
    assert len(code) == 7 and code[3] == "-"
    r = api.as_token(None).post("/kiosk/pair", {"code": code})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["name"] == name
    return api.as_token(body["token"])


def take(kiosk, service="A", key="tap-0001-aaaa", **kw):
    return kiosk.post("/kiosk/tickets", {"service": service, "language": kw.pop("language", "fr"),
                                         "idempotency_key": key, **kw})


def test_pairing_code_gives_a_kiosk_token_once(api):
    r = api.post("/kiosk/pairing-codes", {"kiosk_name": "Hall"})
    code = r.get_json()["code"]
    first = api.as_token(None).post("/kiosk/pair", {"code": code.replace("-", " ")})
    assert first.status_code == 200
    again = api.as_token(None).post("/kiosk/pair", {"code": code})
    assert again.status_code == 404
    assert "not valid" in again.get_json()["error"]["message"]
    kiosk = api.as_token(first.get_json()["token"])
    me = kiosk.get("/kiosk/me").get_json()
    assert me["name"] == "Hall" and me["printer"] == "default"
    assert [k["name"] for k in api.get("/kiosks").get_json()["kiosks"]] == ["Hall"]


def test_only_an_admin_makes_pairing_codes(api):
    kiosk = pair(api)
    assert kiosk.post("/kiosk/pairing-codes", {"kiosk_name": "x"}).status_code == 403


def test_kiosk_ticket_is_idempotent_and_makes_one_print_job(api):
    api.open(1)
    kiosk = pair(api)
    first = take(kiosk, key="tap-1234-abcd")
    assert first.status_code == 201, first.get_json()
    again = take(kiosk, key="tap-1234-abcd")  # the retry after a network blip, or a double tap
    assert again.status_code == 200
    a, b = first.get_json(), again.get_json()
    assert a["ticket"]["id"] == b["ticket"]["id"] and a["public_ref"] == b["public_ref"]
    assert a["print"]["job_id"] == b["print"]["job_id"]
    jobs = api.get("/print-jobs").get_json()["jobs"]
    assert len(jobs) == 1 and jobs[0]["status"] == "pending"
    assert a["ticket"]["channel"] == "kiosk" and a["url"].endswith(
        "/t/" + a["public_ref"] + "?lang=" + a["ticket"]["language"])  # the phone's language
    assert take(kiosk, key="tap-5678-abcd").get_json()["ticket"]["code"] == "A-002"


def test_tap_on_a_closed_service_is_refused_with_a_clear_message(api):
    kiosk = pair(api)  # no counter is open: every service is closed
    r = take(kiosk, service="C")
    assert r.status_code == 409
    err = r.get_json()["error"]
    assert err["code"] == "service_unstaffed" and "Pensions" in err["message"]
    api.patch("/services/A", {"active": False})
    api.open(1)
    assert take(kiosk, service="A").get_json()["error"]["code"] == "service_closed"
    assert api.get("/print-jobs").get_json()["jobs"] == []


def test_a_revoked_kiosk_is_refused(api):
    kiosk = pair(api, "Revoked one")
    api.open(1)
    token_id = api.get("/kiosks").get_json()["kiosks"][0]["token_id"]
    assert api.post(f"/devices/{token_id}/revoke").status_code == 200
    r = take(kiosk)
    assert r.status_code == 401
    assert "revoked" in r.get_json()["error"]["message"]
    assert kiosk.get("/kiosk/me").status_code == 401
    assert api.get("/kiosks").get_json()["kiosks"][0]["revoked"] is True


def test_a_print_job_for_an_unknown_printer_is_kept_and_shown(api):
    api.open(1)
    kiosk = pair(api, printer="nowhere")
    body = take(kiosk).get_json()
    assert body["print"]["status"] == "pending"  # kept: prints when such an agent connects
    assert body["printer"]["state"] == "unknown" and not body["printer"]["connected"]
    assert "No printer agent has connected as 'nowhere'" in body["printer"]["detail"]
    printers = {p["name"]: p for p in api.get("/printers").get_json()["printers"]}
    assert printers["nowhere"]["pending_jobs"] == 1


def test_print_document_has_the_visitor_language_first_then_the_branch_second(api, app):
    api.open(1)
    kiosk = pair(api)
    body = take(kiosk, language="en", priority="elderly").get_json()
    assert body["ticket"]["priority"] == "elderly"
    from sqlalchemy import select
    from queue_server.db import schema as s
    with app.extensions["tabour"].db.read() as conn:
        doc = conn.execute(select(s.print_jobs.c.document)).scalar()
    assert doc["languages"] == ["en", "ar"]
    assert doc["code"] == body["ticket"]["code"] and doc["qr_url"] == body["url"]
    ar = take(kiosk, key="tap-ar-000001", language="ar").get_json()
    with app.extensions["tabour"].db.read() as conn:
        docs = [r[0] for r in conn.execute(select(s.print_jobs.c.document).order_by(s.print_jobs.c.id))]
    assert docs[1]["languages"] == ["ar", "fr"] and ar["ticket"]["people_ahead"] == 1


def test_phone_page_and_qr_need_no_token_and_show_no_personal_data(api):
    api.open(1)
    kiosk = pair(api)
    body = take(kiosk).get_json()
    client = api.client
    page = client.get(f"/t/{body['public_ref']}?lang=fr")
    assert page.status_code == 200 and body["ticket"]["code"] in page.get_data(as_text=True)
    data = client.get(f"/t/{body['public_ref']}.json").get_json()
    assert data["code"] == body["ticket"]["code"] and data["people_ahead"] == 0
    assert "channel" not in data and "note" not in data
    assert client.get("/t/nope.json").status_code == 404
    assert client.get("/t/nope").status_code == 404
    qr = client.get(body["qr"])
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"


def test_kiosk_pages_are_translated_and_arabic_is_rtl(api):
    client = api.client
    ar = client.get("/kiosk/services?lang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in ar and 'lang="ar"' in ar and "اختر الخدمة" in ar
    fr = client.get("/kiosk/services?lang=fr").get_data(as_text=True)
    assert 'dir="ltr"' in fr and "Choisissez un service" in fr
    start = client.get("/kiosk/").get_data(as_text=True)
    assert "العربية" in start and "Français" in start and "English" in start


def test_a_display_pairs_with_its_own_code_and_not_a_kiosk_one(api):
    made = api.post("/display/pairing-codes", {"display_name": "Hall TV"})
    assert made.status_code == 201
    code = made.get_json()["code"]
    kiosk_code = api.post("/kiosk/pairing-codes", {"kiosk_name": "Hall"}).get_json()["code"]
    anon = api.as_token(None)
    assert anon.post("/kiosk/pair", {"code": code}).status_code == 404  # a display's code
    assert anon.post("/display/pair", {"code": kiosk_code}).status_code == 404
    paired = anon.post("/display/pair", {"code": code})
    assert paired.status_code == 200 and paired.get_json()["name"] == "Hall TV"
    token = paired.get_json()["token"]
    assert anon.post("/display/pair", {"code": code}).status_code == 404  # spent
    display = api.as_token(token)
    assert display.get("/kiosk/me").status_code == 403  # a display, not a kiosk
    assert api.post("/display/pairing-codes", {"display_name": ""}).status_code == 400
