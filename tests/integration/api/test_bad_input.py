"""Odd input gets a clear 4xx with a code and a message, never a 500 (issue 12, defects
2 and 5): body size, JSON depth, integers past 64 bits, an empty PATCH."""
from __future__ import annotations

import json

from queue_server.limits import MAX_BODY


def error_of(r, status, code):
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:300])
    err = r.get_json()["error"]
    assert err["code"] == code and err["message"], err
    return err


def test_a_body_past_the_cap_is_refused_with_413(api):
    anonymous = api.as_token(None)
    big = json.dumps({"username": "admin", "password": "x" * (MAX_BODY + 10)})
    err = error_of(anonymous.post("/auth/token", raw=big), 413, "body_too_large")
    assert str(MAX_BODY // 1024) in err["message"]
    # the same with a token, on a route that takes a body
    error_of(api.post("/tickets", raw=big), 413, "body_too_large")


def test_json_nested_a_thousand_levels_is_a_400(api):
    anonymous = api.as_token(None)
    err = error_of(anonymous.post("/auth/token", raw="[" * 1000 + "]" * 1000), 400,
                   "json_too_deep")
    assert "32" in err["message"]
    error_of(api.post("/tickets", raw='{"a":' * 1000 + "1" + "}" * 1000), 400, "json_too_deep")
    # strings that merely contain brackets are not nesting
    r = api.post("/tickets", {"service": "A", "language": "fr",
                              "idempotency_key": "[" * 40 + "{" * 40})
    assert r.status_code == 201, r.get_json()


def test_integers_past_the_database_integer_are_a_400(api):
    """The columns are INTEGER (32 bits on PostgreSQL): 2**31 and 2**63 alike."""
    error_of(api.get(f"/tickets/{2**31}"), 400, "integer_out_of_range")
    huge = 2**63
    error_of(api.get(f"/tickets/{huge}"), 400, "integer_out_of_range")
    error_of(api.get("/tickets/99999999999999999999999999"), 400, "integer_out_of_range")
    error_of(api.post(f"/counters/{huge}/open"), 400, "integer_out_of_range")
    error_of(api.post(f"/devices/{huge}/revoke"), 400, "integer_out_of_range")
    assert api.get(f"/tickets/{2**31 - 1}").status_code == 404  # the largest: just absent
    api.open(1)
    for body in ({"ticket_id": huge}, {"ticket_id": "9" * 30}, {"ticket_id": -(2**70)},
                 {"ticket_id": 2**31}):
        r = api.post("/counters/1/call", body)
        assert r.status_code == 400, (body, r.get_json())
    r = api.post("/counters/1/transfer", {"counter": 2**64})
    assert r.status_code == 400
    r = api.post("/dossiers", {"type": "x", "insured_number": "1", "idempotency_key": "k" * 8,
                               "ticket_id": 2**64})
    assert r.status_code == 400


def test_watch_ticket_with_a_huge_id_is_refused_not_crashed(app, api):
    display = api.device("display", "hall")
    client = app.extensions["tabour"].socketio.test_client(app, auth={"token": display.token})
    ack = client.emit("watch_ticket", {"ticket_id": 2**62}, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "invalid_message"
    ack = client.emit("watch_ticket", {"ticket_id": "9" * 40}, callback=True)
    assert ack["ok"] is False
    client.disconnect()


def test_patch_a_service_with_nothing_says_what_to_send(api):
    """(already a 400 on main since the managers' pages; kept as a guard)"""
    err = error_of(api.patch("/services/A", {}), 400, "nothing_to_change")
    assert "at least one field" in err["message"]
    assert api.patch("/services/A", {"icon": "family"}).status_code == 200
    # a blank or endless name is refused (it was stored: a kiosk button with no words)
    error_of(api.patch("/services/A", {"names": {"ar": ""}}), 400, "invalid_body")
    error_of(api.patch("/services/A", {"names": {"fr": "x" * 500}}), 400, "invalid_body")


def test_the_largest_legitimate_body_is_accepted(api):
    """400 special days, each with six intervals and an Arabic note: under the cap."""
    note = "مغلق استثنائيا بسبب الأشغال " * 3
    special = [{"from": f"2027-{1 + i // 28:02d}-{1 + i % 28:02d}",
                "to": f"2027-{1 + i // 28:02d}-{1 + i % 28:02d}", "closed": False,
                "hours": [[f"{8 + k}:00".zfill(5), f"{8 + k}:30".zfill(5)] for k in range(6)],
                "note": note[:80]} for i in range(336)]
    special += [{"from": f"2028-{1 + i // 28:02d}-{1 + i % 28:02d}",
                 "to": f"2028-{1 + i // 28:02d}-{1 + i % 28:02d}", "closed": False,
                 "hours": [[f"{8 + k}:00".zfill(5), f"{8 + k}:30".zfill(5)] for k in range(6)],
                 "note": note[:80]} for i in range(64)]
    body = {"weekly": {d: [["08:00", "12:00"], ["13:00", "16:30"]]
                       for d in ("mon", "tue", "wed", "thu", "fri")}, "special": special}
    raw = json.dumps(body)  # ensure_ascii: the Arabic as \\u escapes, the largest form
    assert 200_000 < len(raw.encode()) < MAX_BODY
    r = api.put("/admin/schedule", body)
    assert r.status_code == 200, r.get_json()
