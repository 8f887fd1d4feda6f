"""Dossier API on SQLite and PostgreSQL: deposit, lookup, transitions, bad input."""
from __future__ import annotations

import threading

import pytest

from queue_server.dossiers import ids, tracking

INSURED = "12345678" + ids.luhn_digit("12345678")
OLD_AGE_ALL = ["claim_form", "national_id_copy", "life_certificate", "bank_details",
               "inactivity_attestation"]


def body(**kw):
    b = {"type": "old_age_pension", "insured_number": INSURED, "national_id": "BE123456",
         "documents": OLD_AGE_ALL[:-1], "language": "ar", "idempotency_key": "tap-0001-abc",
         "print": False}
    b.update(kw)
    return b


def deposit(api, **kw):
    r = api.post("/dossiers", body(**kw))
    assert r.status_code in (200, 201), r.get_json()
    return r.get_json()["dossier"]


def test_deposit_lookup_and_the_whole_way(api, app):
    kiosk = api.device("kiosk", "kiosk-1")
    r = kiosk.post("/dossiers/check", {k: v for k, v in body().items()
                                       if k not in ("idempotency_key", "print")})
    assert r.status_code == 200
    assert [m["code"] for m in r.get_json()["missing"]] == ["inactivity_attestation"]
    r = kiosk.post("/dossiers", body())
    assert r.status_code == 201, r.get_json()
    d = r.get_json()["dossier"]
    assert tracking.is_valid(d["tracking"]) and d["status"] == "deposited"
    assert d["insured"] == "******" + INSURED[-3:] and INSURED not in r.get_data(as_text=True)
    assert "BE123456" not in r.get_data(as_text=True)
    assert r.get_json()["url"].endswith(f"/d/{d['tracking']}")

    pub = api.as_token(None).get(f"/public/dossiers/{d['tracking'].lower()}")
    assert pub.status_code == 200
    pv = pub.get_json()
    assert set(pv) == {"tracking", "display", "type", "type_names", "status", "insured",
                       "language", "deposited_at", "received_at", "updated_at", "missing",
                       "reason"}
    assert INSURED not in pub.get_data(as_text=True)

    t = d["tracking"]
    for action, extra, status in [("receive", {}, "received"), ("review", {}, "in_review"),
                                  ("incomplete", {"missing": ["life_certificate"]}, "incomplete"),
                                  ("review", {}, "in_review"), ("accept", {}, "accepted"),
                                  ("pay", {}, "paid"), ("close", {}, "closed")]:
        r = api.post(f"/dossiers/{t}/transitions", {"action": action, **extra})
        assert r.status_code == 200, (action, r.get_json())
        assert r.get_json()["dossier"]["status"] == status

    opened = api.get(f"/dossiers/{t}")
    assert opened.status_code == 200
    o = opened.get_json()
    assert o["insured_number"] == INSURED  # staff see it; the opening is audited
    assert [h["type"] for h in o["history"]] == [
        "dossier_deposited", "dossier_received", "dossier_in_review", "dossier_incomplete",
        "dossier_in_review", "dossier_accepted", "dossier_paid", "dossier_closed"]
    assert o["history"][1]["actor"].startswith("user:")
    assert len(o["opened_by"]) == 1 and o["opened_by"][0]["actor"].startswith("user:")


def test_list_and_counts(api):
    a = deposit(api, idempotency_key="tap-aaaa-0001")
    deposit(api, idempotency_key="tap-aaaa-0002", type="death_grant", documents=[],
            event_date="2020-01-01")
    api.post(f"/dossiers/{a['tracking']}/transitions", {"action": "receive"})
    r = api.get("/dossiers?day=today")
    assert r.status_code == 200 and len(r.get_json()["dossiers"]) == 2
    assert all("insured_number" not in x for x in r.get_json()["dossiers"])
    r = api.get("/dossiers?status=received")
    assert [x["tracking"] for x in r.get_json()["dossiers"]] == [a["tracking"]]
    assert api.get("/dossiers?status=lost").status_code == 400  # a bad filter: a bad request
    c = api.get("/dossiers/counts").get_json()
    assert c["deposited_today"] == 2
    assert c["by_type"] == {"old_age_pension": {"received": 1}, "death_grant": {"deposited": 1}}
    assert c["open"]["count"] == 2 and c["open"]["under_7_days"] == 2
    agent = api.user("agent1", "agent")
    assert agent.get("/dossiers/counts").status_code == 403


def test_late_deadline_is_reported_and_deposit_still_allowed(api):
    r = api.post("/dossiers/check", {"type": "death_grant", "insured_number": INSURED,
                                     "event_date": "2020-01-01", "documents": []})
    j = r.get_json()
    assert j["late"] is True and j["deadlines"][0]["past"] is True
    d = deposit(api, type="death_grant", documents=[], event_date="2020-01-01")
    assert len(d["missing"]) == 4


@pytest.mark.parametrize("insured, reason", [("1234", "format"), ("12345678A", "format"),
                                             (INSURED[:-1] + str((int(INSURED[-1]) + 1) % 10),
                                              "check_digit")])
def test_bad_insured_number(api, insured, reason):
    r = api.post("/dossiers", body(insured_number=insured))
    assert r.status_code == 400
    err = r.get_json()["error"]
    assert err["kind"] == "invalid_input" and err["details"]["reason"] == reason
    assert api.get("/dossiers").get_json()["dossiers"] == []


def test_bad_national_id_unknown_type_unknown_document(api):
    assert api.post("/dossiers", body(national_id="12345")).status_code == 400
    r = api.post("/dossiers", body(type="lottery"))
    assert r.status_code == 404 and "old_age_pension" in r.get_json()["error"]["message"]
    r = api.post("/dossiers", body(documents=["selfie"]))
    assert r.status_code == 409 and "selfie" in r.get_json()["error"]["message"]
    assert api.get("/dossiers").get_json()["dossiers"] == []


def test_unknown_tracking_number(api):
    for bad in ["ABCD-EFGH", "XXXX", tracking.new()]:
        assert api.get(f"/dossiers/{bad}").status_code == 404
        r = api.post(f"/dossiers/{bad}/transitions", {"action": "receive"})
        assert r.status_code == 404
        assert api.as_token(None).get(f"/public/dossiers/{bad}").status_code == 404


def test_wrong_guesses_are_slowed_down(api, app):
    public = api.as_token(None)
    for _ in range(app.extensions["tabour"].dossiers.limiter.limit):
        assert public.get(f"/public/dossiers/{tracking.new()}").status_code == 404
    d = deposit(api)
    r = public.get(f"/public/dossiers/{d['tracking']}")
    assert r.status_code == 429 and r.get_json()["error"]["kind"] == "too_many_attempts"


def test_skipped_step_and_bad_transitions(api):
    t = deposit(api)["tracking"]
    r = api.post(f"/dossiers/{t}/transitions", {"action": "accept"})
    assert r.status_code == 409 and "First mark it as received" in r.get_json()["error"]["message"]
    api.post(f"/dossiers/{t}/transitions", {"action": "receive"})
    api.post(f"/dossiers/{t}/transitions", {"action": "review"})
    r = api.post(f"/dossiers/{t}/transitions", {"action": "incomplete", "missing": ["x"]})
    assert r.status_code == 409
    r = api.post(f"/dossiers/{t}/transitions", {"action": "reject"})
    assert r.status_code == 409 and "reason" in r.get_json()["error"]["message"]
    assert api.post(f"/dossiers/{t}/transitions", {"action": "archive"}).status_code == 400
    r = api.post(f"/dossiers/{t}/transitions", {"action": "reject", "reason": "duplicate"})
    assert r.status_code == 200
    pub = api.as_token(None).get(f"/public/dossiers/{t}").get_json()
    assert pub["status"] == "rejected" and pub["reason"] == "duplicate"


def test_double_tap_on_confirm_is_one_dossier(api):
    kiosk = api.device("kiosk", "kiosk-1")
    results = []

    def tap():
        results.append(kiosk.post("/dossiers", body(idempotency_key="double-tap-01")))
    threads = [threading.Thread(target=tap) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 200, 200, 201], [r.get_json() for r in results]
    assert len({r.get_json()["dossier"]["tracking"] for r in results}) == 1
    again = kiosk.post("/dossiers", body(idempotency_key="double-tap-01"))
    assert again.status_code == 200
    assert len(api.get("/dossiers").get_json()["dossiers"]) == 1


def test_tracking_collision_draws_again(api, app):
    d = app.extensions["tabour"].commands
    first = deposit(api, idempotency_key="tap-coll-0001")["tracking"]
    fresh = tracking.new()
    draws = iter([first, first, fresh])
    d.new_tracking = lambda: next(draws)
    second = deposit(api, idempotency_key="tap-coll-0002")["tracking"]
    assert second == fresh


def test_counter_deposit_linked_to_a_ticket(api):
    ticket = api.issue("A")
    d = deposit(api, ticket_id=ticket["id"] if "id" in ticket else ticket["ticket"]["id"])
    assert d["channel"] == "counter" and d["ticket_id"] is not None
    assert api.post("/dossiers", body(idempotency_key="tap-ticket-404",
                                      ticket_id=999999)).status_code == 404


def test_kiosk_may_not_move_dossiers(api):
    kiosk = api.device("kiosk", "kiosk-1")
    t = deposit(kiosk)["tracking"]
    assert kiosk.post(f"/dossiers/{t}/transitions", {"action": "receive"}).status_code == 403
    assert kiosk.get(f"/dossiers/{t}").status_code == 403


def test_list_pages_and_finds_by_insured_number(api):
    other = "87654321" + ids.luhn_digit("87654321")
    made = [deposit(api, idempotency_key=f"tap-page-{i:04d}",
                    insured_number=other if i % 2 else INSURED) for i in range(5)]
    first = api.get("/dossiers?day=today&limit=2").get_json()
    assert [x["tracking"] for x in first["dossiers"]] == [m["tracking"] for m in made[::-1][:2]]
    second = api.get(f"/dossiers?day=today&limit=2&before={first['next']}").get_json()
    assert [x["tracking"] for x in second["dossiers"]] == [m["tracking"] for m in made[::-1][2:4]]
    last = api.get(f"/dossiers?day=today&limit=2&before={second['next']}").get_json()
    assert len(last["dossiers"]) == 1 and last["next"] is None
    found = api.get(f"/dossiers?insured={other[:3]} {other[3:]}").get_json()["dossiers"]
    assert sorted(x["tracking"] for x in found) == sorted(m["tracking"] for m in made[1::2])
    assert all(x["insured"].endswith(other[-3:]) and other not in str(x) for x in found)
    assert api.get("/dossiers?insured=12").status_code == 400  # not an insured number
    assert api.get("/dossiers?limit=0").status_code == 400
    assert api.get("/dossiers?limit=500").status_code == 400
