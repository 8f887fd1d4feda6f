"""The REST API on SQLite and on the local PostgreSQL."""
from __future__ import annotations

from sqlalchemy import func, select

from queue_server.db import schema


def counts(api):
    with api.tabour.db.read() as conn:
        return (conn.execute(select(func.count()).select_from(schema.tickets)).scalar(),
                conn.execute(select(func.count()).select_from(schema.events)).scalar())


def test_health_needs_no_token(api):
    r = api.as_token(None).get("/health")
    assert r.status_code == 200 and r.get_json() == {"status": "ok", "database": True}


def test_openapi_document_lists_the_routes(api):
    doc = api.as_token(None).get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path in ("/api/v1/tickets", "/api/v1/counters/{number}/call-next",
                 "/api/v1/counters/{number}/transfer", "/api/v1/auth/token"):
        assert path in doc["paths"], path
    body = doc["paths"]["/api/v1/tickets"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("IssueTicketIn")
    assert "IssueTicketIn" in doc["components"]["schemas"]
    from openapi_spec_validator import validate
    validate(doc)  # a valid OpenAPI 3.1 document, usable by any client generator


def test_services_show_waiting_counts_and_estimates(api):
    services = api.get("/services").get_json()["services"]
    assert [s["prefix"] for s in services] == ["A", "B", "C", "D", "E"]
    a = services[0]
    assert a["names"]["ar"] == "التعويضات العائلية" and a["waiting"] == 0
    assert a["open"] is False  # every counter is closed at the start of the day
    api.open(1)
    api.issue("A")
    api.issue("A")
    a = api.get("/services").get_json()["services"][0]
    assert a["waiting"] == 2 and a["open"] is True
    # a newcomer would have two people ahead and one open counter, each visit ~6 min
    # (the branch default before the day has taught it): about 12 min, forecast
    assert 9 <= a["estimated_wait_minutes"] <= 15, a


def test_issue_ticket_answers_what_the_kiosk_shows(api):
    api.open(1)
    first = api.issue("A", language="ar")
    assert first["code"] == "A-001" and first["status"] == "waiting"
    assert first["people_ahead"] == 0 and first["estimated_wait_minutes"] == 0
    second = api.post("/tickets", {"service": "A", "priority": False, "language": "ar"})
    assert second.status_code == 201
    body = second.get_json()
    assert {"id", "code", "service", "status", "people_ahead", "estimated_wait_minutes",
            "issued_at"} <= set(body)
    assert body["code"] == "A-002" and body["people_ahead"] == 1
    # stored in UTC, shown in the branch's zone (Casablanca, UTC+1)
    assert body["issued_at"] == "2026-11-23T09:30:00+01:00"
    assert api.get(f"/tickets/{body['id']}").get_json()["code"] == "A-002"


def test_numbers_are_per_service(api):
    assert api.issue("A")["code"] == "A-001"
    assert api.issue("B")["code"] == "B-001"
    assert api.issue("A")["code"] == "A-002"


def test_priority_ticket_goes_ahead(api):
    api.open(1)
    api.issue("A")
    p = api.issue("A", priority="pregnant")
    assert p["priority"] == "pregnant" and p["people_ahead"] == 0
    called = api.call_next(1).get_json()
    assert called["code"] == p["code"]


def test_idempotency_key_never_issues_twice(api):
    body = {"service": "A", "language": "fr", "idempotency_key": "tap-1234-abcd"}
    r1 = api.post("/tickets", body)
    r2 = api.post("/tickets", body)
    assert (r1.status_code, r2.status_code) == (201, 200)
    assert r1.get_json()["id"] == r2.get_json()["id"]
    assert counts(api)[0] == 1


def test_full_counter_flow(api, clock):
    api.open(2)
    t = api.issue("B")
    called = api.call_next(2)
    assert called.status_code == 200 and called.get_json()["code"] == t["code"]
    assert called.get_json()["status"] == "called" and called.get_json()["counter"] == 2
    assert api.post("/counters/2/recall").get_json()["recall_count"] == 1
    clock.advance(minutes=1)
    assert api.post("/counters/2/start").get_json()["status"] == "serving"
    clock.advance(minutes=5)
    done = api.post("/counters/2/finish", {"outcome": "served", "note": "certificate given"})
    assert done.status_code == 200 and done.get_json()["status"] == "done"
    counters = {c["number"]: c for c in api.get("/counters").get_json()["counters"]}
    assert counters[2]["state"] == "open" and counters[2]["current_ticket"] is None
    assert counters[2]["services"] == ["A", "B"]
    events = api.get(f"/tickets/{t['id']}/events").get_json()["events"]
    assert [e["type"] for e in events] == ["ticket_issued", "ticket_called", "ticket_recalled",
                                           "ticket_started", "ticket_finished"]
    assert all(e["actor"].startswith("user:") for e in events)


def test_call_next_with_nobody_waiting_is_204(api):
    api.open(3)
    r = api.call_next(3)
    assert r.status_code == 204 and r.data == b""


def test_transfer_keeps_the_code_and_reaches_the_other_service(api):
    api.open(1)
    api.open(4)
    t = api.issue("A")
    api.call_next(1)
    moved = api.post("/counters/1/transfer", {"service": "C"})
    assert moved.status_code == 200
    assert moved.get_json()["code"] == t["code"] and moved.get_json()["service"] == "C"
    assert api.call_next(4).get_json()["code"] == t["code"]


def test_a_ticket_transferred_to_another_service_keeps_its_code_beside_that_services_own(api):
    """Found while building the reports: A-001 transferred to B, where B-001 exists,
    broke the (service, day, number) unique constraint and answered 500. Codes are
    unique per branch day; the number belongs to the code, not to the service."""
    api.open(3)  # counter 3 serves B then A
    b1 = api.issue("B")
    a1 = api.issue("A")
    assert api.call_next(3).get_json()["code"] == b1["code"]
    api.post("/counters/3/start")
    api.post("/counters/3/finish", {"outcome": "served"})
    assert api.call_next(3).get_json()["code"] == a1["code"]
    moved = api.post("/counters/3/transfer", {"service": "B"})
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["code"] == "A-001" and moved.get_json()["service"] == "B"
    assert api.issue("B")["code"] == "B-002"


def test_transfer_to_a_counter(api):
    api.open(1)
    api.open(2)
    t = api.issue("A")
    api.call_next(1)
    assert api.post("/counters/1/transfer", {"counter": 2}).status_code == 200
    assert api.call_next(2).get_json()["code"] == t["code"]


def test_park_and_return(api):
    api.open(1)
    first = api.issue("A")
    api.issue("A")
    api.call_next(1)
    parked = api.post("/counters/1/park").get_json()
    assert parked["status"] == "parked"
    back = api.post("/counters/1/return", {"ticket_id": first["id"]})
    assert back.status_code == 200 and back.get_json()["status"] == "waiting"
    assert api.call_next(1).get_json()["code"] == first["code"]


def test_a_parked_ticket_cannot_be_returned_to_a_closed_counter(api):
    """Found in review: park, close the counter, return the ticket there; it then
    waited for a closed counter forever (call-next elsewhere answered 204) while
    the kiosk still counted it. The return is refused; closing the counter sends
    its parked tickets back to their service's queue, where another counter
    calls them."""
    api.open(1)
    api.open(3)  # counter 3 serves A too
    t = api.issue("A")
    api.call_next(1)
    assert api.post("/counters/1/park").get_json()["status"] == "parked"
    assert api.post("/counters/1/close").status_code == 200
    back = api.get(f"/tickets/{t['id']}").get_json()
    assert back["status"] == "waiting" and back["people_ahead"] == 0
    refused = api.post("/counters/1/return", {"ticket_id": t["id"]})
    assert refused.status_code == 409, refused.get_json()
    called = api.call_next(3)
    assert called.status_code == 200 and called.get_json()["code"] == t["code"]


def test_no_show_recycles_after_recalls(api):
    api.open(1)
    t = api.issue("A")
    api.call_next(1)
    api.post("/counters/1/recall")
    api.post("/counters/1/recall")
    r = api.post("/counters/1/no-show").get_json()
    assert r["status"] == "waiting" and r["recycled"] is True
    api.call_next(1)
    r = api.post("/counters/1/no-show").get_json()
    assert r["status"] == "no_show" and r["id"] == t["id"]


def test_pause_resume_close(api):
    api.open(5)
    assert api.post("/counters/5/pause").get_json()["state"] == "paused"
    assert api.call_next(5).status_code == 409
    assert api.post("/counters/5/resume").get_json()["state"] == "open"
    assert api.post("/counters/5/close").get_json()["state"] == "closed"


def test_cancel_a_waiting_ticket(api):
    t = api.issue("E")
    r = api.post(f"/tickets/{t['id']}/cancel", {"reason": "left the branch"})
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"


def test_service_edit_applies_without_restart(api):
    r = api.patch("/services/E", {"active": False, "target_wait_minutes": 15})
    assert r.status_code == 200 and r.get_json()["active"] is False
    r = api.post("/tickets", {"service": "E", "language": "fr"})
    assert r.status_code == 409 and "closed" in r.get_json()["error"]["message"]


# --- bad input: a clear error, nothing changed ----------------------------------

def assert_error(r, status, code=None, words=()):
    """``code`` is the refusal's family (``kind``) or its precise ``code``."""
    assert r.status_code == status, r.get_json()
    err = r.get_json()["error"]
    assert err["message"]
    if code:
        assert code in (err["code"], err["kind"]), err
    for w in words:
        assert w in err["message"], err["message"]


def test_unknown_service(api):
    before = counts(api)
    assert_error(api.post("/tickets", {"service": "Z"}), 404, "not_found", ["'Z'"])
    assert counts(api) == before


def test_malformed_json(api):
    before = counts(api)
    assert_error(api.post("/tickets", raw='{"service": "A",'), 400, "malformed_json")
    assert_error(api.post("/tickets", raw='["A"]'), 400, "bad_request")
    assert counts(api) == before


def test_invalid_fields(api):
    r = api.post("/tickets", {"service": "A", "language": "de", "colour": "red"})
    assert_error(r, 400, "invalid_body", ["language", "colour"])
    assert counts(api)[0] == 0


def test_language_not_offered_in_the_branch(api, clock):
    # the schema accepts ar/fr/en; a branch may offer fewer
    from sqlalchemy import update
    with api.tabour.db.write() as conn:
        conn.execute(update(schema.branches).values(languages=["ar", "fr"]))
    assert_error(api.post("/tickets", {"service": "A", "language": "en"}), 409, None, ["'en'"])


def test_finish_a_ticket_never_called(api):
    api.open(1)
    t = api.issue("A")
    before = counts(api)
    r = api.post("/counters/1/finish", {"outcome": "served", "ticket_id": t["id"]})
    assert_error(r, 409, "invalid_transition", ["A-001", "waiting"])
    assert counts(api) == before
    assert api.get(f"/tickets/{t['id']}").get_json()["status"] == "waiting"


def test_counter_that_does_not_serve_the_service(api):
    api.open(1)
    api.open(2)
    api.issue("A")
    api.call_next(1)
    before = counts(api)
    # counter 4 serves C and B, not A
    r = api.post("/counters/1/transfer", {"counter": 4})
    assert_error(r, 409, "not_allowed", ["does not serve"])
    assert counts(api) == before


def test_second_call_next_while_serving(api):
    api.open(1)
    api.issue("A")
    api.issue("A")
    api.call_next(1)
    before = counts(api)
    assert_error(api.call_next(1), 409, "invalid_transition", ["still handling"])
    assert counts(api) == before


def test_missing_and_wrong_tokens(api):
    before = counts(api)
    assert_error(api.as_token(None).post("/tickets", {"service": "A"}), 401, "unauthorized")
    assert_error(api.as_token("nope").post("/tickets", {"service": "A"}), 401, "unauthorized")
    assert counts(api) == before


def test_wrong_password(api):
    r = api.as_token(None).post("/auth/token", {"username": "admin", "password": "guess"})
    assert_error(r, 401, "unauthorized", ["Wrong username or password"])


def test_roles_are_checked(api):
    kiosk = api.device("kiosk", "entrance")
    display = api.device("display", "hall")
    agent = api.user("fatima", "agent")
    # a kiosk (a visitor's channel) is not offered a service nobody staffs
    assert_error(kiosk.post("/tickets", {"service": "A"}), 409, "service_unstaffed")
    api.open(2)
    assert kiosk.issue("A")["code"] == "A-001"
    assert_error(kiosk.post("/counters/1/open"), 403, "forbidden", ["kiosk"])
    assert_error(display.post("/tickets", {"service": "A"}), 403, "forbidden")
    assert_error(agent.post("/devices", {"role": "kiosk", "name": "x"}), 403)
    assert_error(agent.patch("/services/A", {"active": False}), 403)
    assert agent.open(1)["state"] == "open"
    assert agent.call_next(1).status_code == 200


def test_an_agent_cannot_work_another_agents_counter(api):
    fatima = api.user("fatima", "agent")
    karim = api.user("karim", "agent")
    fatima.open(1)
    api.issue("A")
    assert_error(karim.call_next(1), 403, "forbidden", ["another agent"])
    assert fatima.call_next(1).status_code == 200


def test_revoked_device_token_stops_working(api):
    r = api.post("/devices", {"role": "kiosk", "name": "k2"})
    kiosk = api.as_token(r.get_json()["token"])
    api.open(1)
    assert kiosk.issue("A")
    from sqlalchemy import select as sel
    with api.tabour.db.read() as conn:
        tid = conn.execute(sel(schema.tokens.c.id).where(schema.tokens.c.name == "k2")).scalar()
    assert api.post(f"/devices/{tid}/revoke").status_code == 200
    assert_error(kiosk.post("/tickets", {"service": "A"}), 401, "unauthorized", ["revoked"])


def test_unknown_counter_and_ticket(api):
    assert_error(api.post("/counters/99/open"), 404, "not_found", ["99"])
    assert_error(api.get("/tickets/12345"), 404, "not_found")


def test_transfer_needs_exactly_one_target(api):
    assert_error(api.post("/counters/1/transfer", {"service": "B", "counter": 2}), 400,
                 "invalid_body", ["either"])


def test_passwords_are_hashed(api):
    with api.tabour.db.read() as conn:
        h = conn.execute(select(schema.users.c.password_hash)).scalar()
    assert "admin-pass-for-tests" not in h and h.startswith("scrypt:")


def test_closing_a_counter_gives_back_the_tickets_sent_to_it(api):
    api.open(1)
    api.open(2)
    t = api.issue("A")
    api.call_next(1)
    assert api.post("/counters/1/transfer", {"counter": 2}).status_code == 200
    assert api.post("/counters/2/close").status_code == 200
    # counter 3 also serves A: the ticket is callable again, at the front
    api.open(3)
    assert api.call_next(3).get_json()["code"] == t["code"]


def test_transfer_to_a_closed_counter_is_refused(api):
    api.open(1)
    api.issue("A")
    api.call_next(1)
    assert_error(api.post("/counters/1/transfer", {"counter": 2}), 409, "not_allowed", ["closed"])


def test_an_overlong_idempotency_header_is_a_clear_error(api):
    r = api.post("/tickets", {"service": "A"}, headers={"Idempotency-Key": "k" * 300})
    assert_error(r, 400, None, ["Idempotency-Key"])
    assert counts(api)[0] == 0


def test_the_first_request_of_a_fresh_server_can_be_an_issue(api):
    """The branch's read model is first built inside the issuing transaction, which
    has already taken the ticket's event number: it must start from the number
    before it, or the new ticket would be taken for already applied (found in a
    real server process, where nothing had read the branch before)."""
    t = api.issue("A")
    services = {s["prefix"]: s for s in api.get("/services").get_json()["services"]}
    assert services["A"]["waiting"] == 1
    assert api.get(f"/tickets/{t['id']}").get_json()["people_ahead"] == 0
