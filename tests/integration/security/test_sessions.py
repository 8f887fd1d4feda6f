"""Token management (issue 12, part B): sessions and devices through separate routes,
logout, an admin listing and ending sessions, disabling a user (login refused with a
clear message), changing one's own password; every change an audited event. On SQLite
and PostgreSQL, through the real Flask app."""
from __future__ import annotations

from sqlalchemy import select

from queue_server.db import schema
from support.app import ADMIN_PASSWORD


def err(r, status: int, code: str) -> dict:
    body = r.get_json()
    assert r.status_code == status, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]


def events(api, *types) -> list:
    with api.tabour.db.read() as conn:
        return conn.execute(select(schema.events).where(schema.events.c.type.in_(types))
                            .order_by(schema.events.c.seq)).all()


def token_id(api, who) -> int:
    """The row id of the session or device token ``who`` holds (from its own answers)."""
    return api.tabour.auth.authenticate(who.token).token_id


def test_logout_revokes_the_callers_token_only(api):
    first = api.user("fatima", "agent")
    second = first.login("fatima", "password-123")
    r = first.post("/auth/logout")
    assert r.status_code == 200 and r.get_json() == {"signed_out": True}
    err(first.get("/services"), 401, "token_invalid")
    assert second.get("/services").status_code == 200  # her other session stays
    (ev,) = events(api, "session_revoked")
    assert ev.data["logout"] is True and ev.actor.startswith("user:")
    # a device has no session to end
    kiosk = api.device("kiosk")
    err(kiosk.post("/auth/logout"), 403, "role_forbidden")


def test_devices_and_sessions_are_revoked_through_separate_routes(api):
    agent = api.user("karim", "agent")
    kiosk = api.device("kiosk", "entrance")
    session_id, device_id = token_id(api, agent), token_id(api, kiosk)
    # the device route does not end a session, the session route does not revoke a device
    err(api.post(f"/devices/{session_id}/revoke"), 404, "device_not_found")
    err(api.post(f"/admin/sessions/{device_id}/revoke"), 404, "session_not_found")
    assert agent.get("/services").status_code == 200
    assert kiosk.get("/services").status_code == 200
    assert api.post(f"/admin/sessions/{session_id}/revoke").status_code == 200
    err(agent.get("/services"), 401, "token_invalid")
    assert kiosk.get("/services").status_code == 200
    history = api.get("/admin/history").get_json()["history"]
    assert any(h["type"] == "session_revoked" and h["data"]["token_id"] == session_id
               for h in history)


def test_an_admin_lists_sessions_a_manager_sees_agents_only(api):
    agent = api.user("amina", "agent")
    manager = api.user("omar", "manager")
    listed = api.get("/admin/sessions").get_json()["sessions"]
    by_user = {s["username"]: s for s in listed}
    assert {"admin", "amina", "omar"} <= set(by_user)
    assert by_user["admin"]["yours"] is True and by_user["amina"]["yours"] is False
    assert by_user["amina"]["role"] == "agent" and by_user["amina"]["expires_at"]
    assert "token" not in by_user["amina"] and "token_hash" not in by_user["amina"]
    mine = manager.get("/admin/sessions").get_json()["sessions"]
    assert {s["username"] for s in mine} == {"amina"}
    # a manager may end an agent's session, not an admin's
    err(manager.post(f"/admin/sessions/{by_user['admin']['token_id']}/revoke"), 403,
        "manager_agents_only")
    assert manager.post(f"/admin/sessions/{by_user['amina']['token_id']}/revoke"
                        ).status_code == 200
    err(agent.get("/services"), 401, "token_invalid")
    err(agent.get("/admin/sessions"), 401, "token_invalid")
    other = api.user("nadia", "agent")
    err(other.get("/admin/sessions"), 403, "role_forbidden")


def test_a_disabled_user_is_refused_at_login_with_a_clear_message(api):
    agent = api.user("youssef", "agent")
    users = api.get("/admin/users").get_json()["users"]
    uid = next(u["id"] for u in users if u["username"] == "youssef")
    assert api.post(f"/admin/users/{uid}/disable").status_code == 200
    err(agent.get("/services"), 401, "token_invalid")
    r = api.client.post("/api/v1/auth/token",
                        json={"username": "youssef", "password": "password-123"})
    e = err(r, 403, "account_disabled")
    assert "disabled" in e["message"]
    # a wrong password still says only "wrong username or password"
    r = api.client.post("/api/v1/auth/token", json={"username": "youssef", "password": "nope-nope"})
    err(r, 401, "wrong_login")
    assert api.post(f"/admin/users/{uid}/enable").status_code == 200
    assert api.login("youssef", "password-123").get("/services").status_code == 200


def test_a_user_changes_their_own_password_and_their_other_sessions_end(api):
    here = api.user("salma", "agent")
    elsewhere = here.login("salma", "password-123")
    err(here.post("/auth/password", {"current_password": "wrong-one",
                                      "new_password": "new-password-1"}), 403, "wrong_password")
    err(here.post("/auth/password", {"current_password": "password-123",
                                      "new_password": "short"}), 400, "invalid_body")
    assert elsewhere.get("/services").status_code == 200  # nothing changed yet
    r = here.post("/auth/password", {"current_password": "password-123",
                                      "new_password": "new-password-1"})
    assert r.status_code == 200 and r.get_json() == {"password_changed": True,
                                                     "sessions_ended": 1}
    assert here.get("/services").status_code == 200
    err(elsewhere.get("/services"), 401, "token_invalid")
    r = api.client.post("/api/v1/auth/token",
                        json={"username": "salma", "password": "password-123"})
    err(r, 401, "wrong_login")
    api.login("salma", "new-password-1")
    (ev,) = events(api, "user_password_changed")
    assert ev.data["own"] is True and ev.data["sessions_ended"] == 1
    assert "password" not in {k for k in ev.data if k != "own"} and \
        "new-password-1" not in str(ev.data)


def test_the_admin_can_sign_out_too(app):
    from support.api import Api
    admin = Api(app).login("admin", ADMIN_PASSWORD)
    assert admin.post("/auth/logout").status_code == 200
    err(admin.get("/admin/overview"), 401, "token_invalid")
