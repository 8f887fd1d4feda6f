"""Administration through /api/v1/admin: each change an audited event (who, when, before,
after) that applies live; bad input refused with a code and nothing changed; who may do
what (the role matrix); on SQLite and PostgreSQL."""
from __future__ import annotations


import pytest
from sqlalchemy import func, select

from queue_server.db import schema
from support.app import ADMIN_PASSWORD
from support.branches import second_branch
from support.sio import inbox


def events(api, *types) -> list:
    with api.tabour.db.read() as conn:
        q = select(schema.events).where(schema.events.c.type.in_(types)).order_by(
            schema.events.c.seq)
        return conn.execute(q).all()


def event_count(api) -> int:
    with api.tabour.db.read() as conn:
        return conn.execute(select(func.count()).select_from(schema.events)).scalar()


def err(r, status: int, code: str) -> dict:
    body = r.get_json()
    assert r.status_code == status, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]


# --- the role matrix -------------------------------------------------------------------------

ROUTES = [  # (method, path, body, who may: "manager" (and admin) or "admin")
    ("get", "/admin/overview", None, "manager"),
    ("get", "/admin/history", None, "manager"),
    ("get", "/admin/users", None, "manager"),
    ("post", "/admin/users", {"username": "new.agent", "password": "password-123",
                              "role": "agent"}, "manager"),
    ("put", "/admin/counters/6", {"services": ["E", "D", "A", "B", "C"]}, "manager"),
    ("put", "/admin/display-zones", {"zones": [{"name": "hall"}]}, "manager"),
    ("put", "/admin/schedule", {"weekly": None}, "manager"),
    ("patch", "/admin/policy", {"pause_alert_minutes": 25}, "manager"),
    ("patch", "/services/E", {"target_wait_minutes": 12}, "manager"),
    ("get", "/admin/devices", None, "admin"),
    ("post", "/admin/display-links", {"name": "Hall TV", "zone": "hall"}, "admin"),
    ("post", "/kiosk/pairing-codes", {"kiosk_name": "Entrance"}, "admin"),
]


def call(client, method, path, body):
    if method == "get":
        return client.get(path)
    return getattr(client, method)(path, body)


@pytest.mark.parametrize("method, path, body, who", ROUTES,
                         ids=[f"{m} {p}" for m, p, _b, _w in ROUTES])
def test_role_matrix(api, method, path, body, who):
    agent = api.user("amine", "agent")
    manager = api.user("salma", "manager")
    assert call(api.as_token(None), method, path, body).status_code == 401
    for device in ("kiosk", "display", "printer"):
        err(call(api.device(device), method, path, body), 403, "role_forbidden")
    err(call(agent, method, path, body), 403, "role_forbidden")
    r = call(manager, method, path, body)
    if who == "manager":
        assert r.status_code in (200, 201), r.get_json()
    else:
        err(r, 403, "role_forbidden")
    r = call(api, method, path, body)
    assert r.status_code in (200, 201, 409), r.get_json()  # 409: the manager made it first
    # another branch, named: refused for everyone, nothing changed
    second_branch(api)
    before = event_count(api)
    sep = "&" if "?" in path else "?"
    for who_ in (manager, api):
        r = call(who_, method, path + sep + "branch=alger-centre", body)
        assert r.status_code == 403, r.get_json()
        assert r.get_json()["error"]["code"] in ("other_branch_admin", "role_forbidden")
    err(call(api, method, path + sep + "branch=atlantis", body), 400, "unknown_branch")
    assert event_count(api) == before


def test_the_admin_page_is_told_what_the_caller_may_do(api):
    manager = api.user("salma", "manager")
    may = manager.get("/admin/overview").get_json()["may"]
    assert may == {"config": True, "users": True, "devices": False, "roles": ["agent"],
                   "regions": {}}
    may = api.get("/admin/overview").get_json()["may"]
    assert may["devices"] and may["roles"] == ["agent", "manager", "admin", "supervisor"]
    assert may["regions"]["casa-settat"]["fr"] == "Casablanca-Settat"  # a supervisor's scope


# --- services ------------------------------------------------------------------------------

def test_a_service_edit_is_audited_and_applies_live(api, clock):
    manager = api.user("salma", "manager")
    kiosk = api.device("kiosk", "entrance")
    api.open(1)
    r = manager.patch("/services/A", {"names": {"fr": "Allocations"}, "target_wait_minutes": 15,
                                      "cutoff": "15:00"})
    assert r.status_code == 200, r.get_json()
    view = r.get_json()
    assert view["names"]["fr"] == "Allocations" and view["names"]["ar"] == "التعويضات العائلية"
    assert view["target_wait_minutes"] == 15 and view["cutoff"] == "15:00"
    (e,) = events(api, "service_edited")
    assert e.actor == "user:salma" and e.at is not None
    assert e.data["before"] == {"names": {"ar": "التعويضات العائلية", "fr": "Allocations familiales",
                                          "en": "Family allowances",
                                          "zgh": "ⵜⵉⵙⵖⴰⵔⵉⵏ ⵜⵉⵡⵊⵊⴰⵏⵉⵏ"},
                                "target_wait_minutes": 20, "cutoff": None}
    assert e.data["after"]["target_wait_minutes"] == 15
    # 09:30 local: before the cut-off
    assert kiosk.post("/tickets", {"service": "A", "language": "fr"}).status_code == 201
    clock.now = clock.now.replace(hour=14, minute=0)  # 15:00 local: the cut-off
    e = err(kiosk.post("/tickets", {"service": "A", "language": "fr"},
                       headers={"Accept-Language": "fr"}), 409, "service_cut_off_no_hours")
    assert e["params"]["back_day"] == "tomorrow"
    assert "demain" in e["message"] and "15:00" in e["message"]
    e = err(kiosk.post("/tickets?lang=ar", {"service": "A", "language": "ar"}), 409,
            "service_cut_off_no_hours")
    assert "غدا" in e["message"]
    assert api.issue("A")["code"]  # staff still issue (a visitor already inside)
    # removing the cut-off: null
    assert manager.patch("/services/A", {"cutoff": None}).get_json()["cutoff"] is None
    assert kiosk.post("/tickets", {"service": "A", "language": "fr"}).status_code == 201


def test_closed_for_today_reopens_the_next_branch_day(api, clock):
    kiosk = api.device("kiosk", "entrance")  # a device token does not expire
    api.open(6)
    r = api.patch("/services/E", {"closed_today": True})
    assert r.status_code == 200 and r.get_json()["closed_today"] and not r.get_json()["open"]
    err(kiosk.post("/tickets", {"service": "E", "language": "fr"}), 409, "service_closed")
    clock.advance(days=1)
    api = api.login("admin", ADMIN_PASSWORD)  # a new day, a new session
    assert api.get("/services").get_json()["services"][4]["closed_today"] is False
    assert kiosk.post("/tickets", {"service": "E", "language": "fr"}).status_code == 201


def test_no_service_is_left_without_a_counter(api):
    manager = api.user("salma", "manager")
    # D is served by counters 5 and 6
    assert manager.put("/admin/counters/5", {"services": ["E", "C"]}).status_code == 200
    before = event_count(api)
    e = err(manager.put("/admin/counters/6", {"services": ["E", "A"]}), 409,
            "service_without_counter")
    assert e["params"] == {"service": "D"}
    assert event_count(api) == before
    counters = {c["number"]: c for c in api.get("/counters").get_json()["counters"]}
    assert counters[6]["services"] == ["E", "D", "A", "B", "C"]  # nothing changed
    # a closed service may lose its last counter; reopening it is then refused
    assert manager.patch("/services/D", {"active": False}).status_code == 200
    assert manager.put("/admin/counters/6", {"services": ["E", "A"]}).status_code == 200
    err(manager.patch("/services/D", {"active": True}), 409, "service_without_counter")
    err(manager.put("/admin/counters/6", {"services": ["E", "Z"]}), 400, "unknown_services")
    err(manager.put("/admin/counters/6", {"services": ["E", "E"]}), 400, "duplicate_services")
    err(manager.put("/admin/counters/60", {"services": ["E"]}), 404, "counter_not_found")
    err(manager.patch("/services/Z", {"icon": "x"}), 404, "service_not_found")
    err(manager.patch("/services/A", {}), 400, "nothing_to_change")
    err(manager.patch("/services/A", {"cutoff": "25:00"}), 400, "invalid_body")


def test_a_counters_services_and_order_apply_live(api, clock):
    agent = api.user("amine", "agent")
    assert agent.post("/counters/2/open").status_code == 200
    console = api.tabour.socketio.test_client(api.app, auth={
        "token": agent.token, "view": "counter", "counter": 2})
    inbox(console).wait("snapshot")
    a = api.issue("A")
    clock.advance(minutes=1)
    b = api.issue("B")
    r = api.put("/admin/counters/2", {"services": ["B", "A"], "name": "Guichet B"})
    assert r.status_code == 200 and r.get_json()["services"] == ["B", "A"]
    assert r.get_json()["name"] == "Guichet B"
    (e,) = events(api, "counter_configured")
    assert e.data["before"] == {"services": ["A", "B"], "name": "Guichet 2"}
    assert e.data["after"] == {"services": ["B", "A"], "name": "Guichet B"}
    # the counter now serves B first: its next ticket is B's, though A came first
    assert agent.call_next(2).get_json()["code"] == b["code"]
    q = inbox(console).wait("counter_queue", predicate=lambda p: p["counter"]["current_ticket"])
    assert q[0]["counter"]["services"] == ["B", "A"]
    assert a["code"] != b["code"]


# --- zones, hours, policy ---------------------------------------------------------------------

def test_display_zones_and_display_links(api):
    r = api.put("/admin/display-zones", {"zones": [{"name": "hall"}, {
        "name": "pensions", "services": ["C", "D"], "counters": [4, 5]}]})
    assert r.status_code == 200, r.get_json()
    err(api.put("/admin/display-zones", {"zones": [{"name": "hall"}, {"name": "hall"}]}), 400,
        "duplicate_zone")
    err(api.put("/admin/display-zones", {"zones": [{"name": "up", "services": ["Q"]}]}), 400,
        "unknown_services")
    err(api.put("/admin/display-zones", {"zones": [{"name": "up", "counters": [99]}]}), 400,
        "unknown_counters")
    err(api.put("/admin/display-zones", {"zones": [{"name": "a b"}]}), 400, "invalid_body")
    assert [z["name"] for z in api.get("/admin/overview").get_json()["zones"]] == \
        ["hall", "pensions"]
    err(api.post("/admin/display-links", {"name": "TV", "zone": "garden"}), 404,
        "unknown_display_zone")
    r = api.post("/admin/display-links", {"name": "Pensions TV", "zone": "pensions"})
    assert r.status_code == 201, r.get_json()
    link = r.get_json()
    assert "/display/?zone=pensions#token=" in link["url"]
    tv = api.tabour.socketio.test_client(api.app, auth={"token": link["token"],
                                                        "view": "display", "zone": "pensions"})
    snap = inbox(tv).wait("snapshot")[0]
    assert [s["prefix"] for s in snap["services"]] == ["C", "D"]
    devices = api.get("/admin/devices").get_json()["devices"]
    tv_row = next(d for d in devices if d["token_id"] == link["token_id"])
    assert tv_row["connected"] and tv_row["last_seen_at"] and tv_row["role"] == "display"
    assert api.post(f"/devices/{link['token_id']}/revoke").status_code == 200
    devices = api.get("/admin/devices").get_json()["devices"]
    assert next(d for d in devices if d["token_id"] == link["token_id"])["revoked"]


def test_opening_hours_refuse_visitors_outside_them(api, clock):
    kiosk = api.device("kiosk", "entrance")
    api.open(1)
    week = {d: [["08:30", "12:00"], ["13:30", "16:30"]] for d in ("mon", "tue", "wed", "thu")}
    week["fri"] = [["08:30", "11:30"]]
    schedule = {"weekly": week, "special": [
        {"from": "2026-11-24", "to": "2026-11-24", "closed": True, "note": "holiday"}]}
    r = api.put("/admin/schedule", schedule)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["special"][0]["note"] == "holiday"
    (e,) = events(api, "branch_edited")
    assert e.data["what"] == "schedule" and e.data["before"] == {"weekly": None, "special": []}
    # Monday 09:30 local: open
    assert kiosk.post("/tickets", {"service": "A", "language": "fr"}).status_code == 201
    clock.now = clock.now.replace(hour=11, minute=15)  # 12:15 local: lunch
    e = err(kiosk.post("/tickets?lang=fr", {"service": "A", "language": "fr"}), 409,
            "branch_closed_now")
    assert e["params"] == {"back_day": "today", "back_time": "13:30"}
    assert "aujourd" in e["message"] and "13:30" in e["message"]
    clock.now = clock.now.replace(hour=16, minute=0)  # 17:00 local; Tuesday is a holiday
    e = err(kiosk.post("/tickets?lang=en", {"service": "A", "language": "fr"}), 409,
            "branch_closed_now")
    assert e["params"] == {"back_day": "wed", "back_time": "08:30"}
    assert e["message"] == "The branch is closed now: it opens on Wednesday at 08:30."
    assert api.issue("A")  # staff are not refused
    for bad, problem in (({"weekly": {"mon": [["09:00", "08:00"]]}}, "closes before"),
                         ({"special": [{"from": "2026-12-02", "to": "2026-12-01",
                                        "closed": True}]}, "before it starts")):
        assert problem in err(api.put("/admin/schedule", bad), 400, "bad_schedule")["message"]
    err(api.put("/admin/schedule", {"weekly": {"monday": []}}), 400, "invalid_body")
    assert len(events(api, "branch_edited")) == 1  # the refusals changed nothing
    err(api.patch("/admin/policy", {"pause_alert_minutes": 0}), 400, "invalid_body")


# --- users ----------------------------------------------------------------------------------

def test_users_reset_disable_enable(api):
    manager = api.user("salma", "manager")
    agent = api.user("amine", "agent")
    users = {u["username"]: u for u in manager.get("/admin/users").get_json()["users"]}
    amine, admin = users["amine"], users["admin"]
    assert amine["may_manage"] and not admin["may_manage"]
    # a manager manages agents only
    e = err(manager.post("/admin/users", {"username": "boss", "password": "password-123",
                                           "role": "manager"}), 403, "manager_agents_only")
    assert "boss" in e["message"]
    err(manager.post(f"/admin/users/{admin['id']}/password", {"password": "new-pass-123"}),
        403, "manager_agents_only")
    err(manager.post(f"/admin/users/{admin['id']}/disable"), 403, "manager_agents_only")
    err(manager.post("/admin/users", {"username": "amine", "password": "password-123",
                                      "role": "agent"}), 409, "username_taken")
    err(manager.post("/admin/users", {"username": "x", "password": "short", "role": "agent"}),
        400, "invalid_body")
    # a new password ends the agent's sessions at once
    assert agent.get("/counters").status_code == 200
    r = manager.post(f"/admin/users/{amine['id']}/password", {"password": "new-pass-123"})
    assert r.status_code == 200, r.get_json()
    err(agent.get("/counters"), 401, "token_invalid")
    again = api.login("amine", "new-pass-123")
    # disabling ends them too; twice is refused
    assert manager.post(f"/admin/users/{amine['id']}/disable").status_code == 200
    err(again.get("/counters"), 401, "token_invalid")
    r = api.client.post("/api/v1/auth/token", json={"username": "amine",
                                                    "password": "new-pass-123"})
    err(r, 403, "account_disabled")  # said to whoever knows the password (issue 12)
    err(manager.post(f"/admin/users/{amine['id']}/disable"), 409, "user_already")
    assert manager.post(f"/admin/users/{amine['id']}/enable").status_code == 200
    assert api.login("amine", "new-pass-123")
    err(api.post(f"/admin/users/{admin['id']}/disable"), 409, "not_yourself")
    err(api.post("/admin/users/999/disable"), 404, "user_not_found")
    kinds = [e.type for e in events(api, "user_password_changed", "user_disabled",
                                    "user_enabled")]
    assert kinds == ["user_password_changed", "user_disabled", "user_enabled"]
    history = manager.get("/admin/history?limit=5").get_json()["history"]
    assert history[0]["type"] == "user_enabled" and history[0]["actor"] == "salma"
    assert all("password" not in str(h["data"]).replace("password_changed", "")
               for h in history)


def test_a_user_of_another_branch_is_not_found(api):
    bid, nadia = second_branch(api)
    with api.tabour.db.read() as conn:
        nid = conn.execute(select(schema.users.c.id).where(
            schema.users.c.username == "nadia")).scalar()
    err(api.post(f"/admin/users/{nid}/disable"), 404, "user_not_found")
    assert nadia.get("/admin/overview").status_code == 200
