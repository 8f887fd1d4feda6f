"""The live dashboard over Socket.IO (view "dashboard"): a snapshot on connect, then the
live picture, today's figures (the reports' own) and the alert facts; alerts raised once
per breach, cleared 10 % below the target, acknowledged once; on SQLite and PostgreSQL."""
from __future__ import annotations


import pytest
from sqlalchemy import func, select

from queue_server import reports
from queue_server.db import schema
from support.branches import second_branch
from support.sio import inbox


def connect(api, token, **auth):
    t = api.tabour
    return t.socketio.test_client(api.app, auth={"token": token, **auth})


def wait(client, name, count=1, timeout=5.0, predicate=lambda p: True):
    return inbox(client).wait(name, count, timeout, predicate)


@pytest.fixture
def manager(api):
    return api.user("salma", "manager")


def service(picture: dict, prefix: str) -> dict:
    return next(s for s in picture["services"] if s["prefix"] == prefix)


def counter(picture: dict, number: int) -> dict:
    return next(c for c in picture["counters"] if c["number"] == number)


def test_a_manager_sees_the_branch_change_live(api, manager, clock):
    api.open(1)
    board = connect(api, manager.token, view="dashboard", lang="fr")
    assert board.is_connected()
    (snap,) = wait(board, "snapshot")
    live = snap["dashboard"]["live"]
    assert service(live, "A")["waiting"] == 0 and counter(live, 1)["state"] == "open"
    assert counter(live, 1)["agent"] == "Administrator"
    today = wait(board, "dashboard_today")[0]  # asked for at connect: none was computed
    assert today["totals"]["issued"] == 0

    t1 = api.issue("A")
    clock.advance(minutes=3)
    api.issue("A")
    pic = wait(board, "dashboard_live", predicate=lambda p: service(p, "A")["waiting"] == 2)[0]
    a = service(pic, "A")
    assert a["longest_wait_s"] == 180 and a["longest_wait_since"].startswith("2026-11-23T09:30")
    today = wait(board, "dashboard_today", predicate=lambda p: p["totals"]["issued"] == 2)[0]
    assert service(today, "A")["arrivals"] == 2

    clock.advance(minutes=2)
    assert api.call_next(1).get_json()["code"] == t1["code"]
    # (an earlier picture, of the first ticket alone, also had one waiting: not that one)
    pic = wait(board, "dashboard_live", predicate=lambda p: service(p, "A")["waiting"] == 1
               and counter(p, 1)["current_ticket"] is not None)[0]
    c1 = counter(pic, 1)
    assert c1["state"] == "serving" and c1["current_ticket"]["code"] == t1["code"]
    assert c1["current_ticket"]["called_at"].startswith("2026-11-23T09:35")
    api.post("/counters/1/start")
    clock.advance(minutes=4)
    api.post("/counters/1/finish", {"outcome": "served"})
    today = wait(board, "dashboard_today", timeout=8,
                 predicate=lambda p: p["totals"]["served"] == 1)[0]
    # the dashboard's today is the report of today, to the unit
    with api.tabour.db.read() as conn:
        report = reports.today(conn, 1, clock())
    assert {k: v for k, v in today.items() if k != "as_of_seq"} == report
    assert service(today, "A")["wait_mean_min"] == 5.0  # the first ticket waited 5 min
    assert [h["arrivals"] for h in service(today, "A")["trend"]] == [2]
    assert today["counters"][0]["served"] == 1 and today["counters"][0]["service_mean_min"] == 4.0


def test_the_rest_api_gives_the_same_picture(api, manager, clock):
    api.open(2)
    api.issue("B")
    r = manager.get("/dashboard")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert service(body["live"], "B")["waiting"] == 1
    assert body["today"]["totals"]["issued"] == 1 and body["today"]["as_of_seq"] == body["seq"]
    assert body["alerts"] == [] and body["branch"]["code"] == "casa-hay-hassani"


def test_a_wait_alert_is_raised_once_per_breach_and_cleared_below_the_target(api, manager,
                                                                             clock):
    hub = api.tabour.dashboard
    hub.alerts_owner = True  # this process holds the alerts lease (run.py's loop takes it)
    assert api.patch("/services/A", {"target_wait_minutes": 10}).status_code == 200
    board = connect(api, manager.token, view="dashboard", lang="ar")
    counters_room = connect(api, api.user("amine", "agent").token, view="counter", counter=1)
    display = connect(api, api.device("display").token, view="display")
    kiosk = connect(api, api.device("kiosk").token, view="kiosk")
    wait(board, "snapshot")
    api.open(1)
    api.open(2)
    api.open(3)
    clock.advance(minutes=1)
    first = api.issue("A")
    assert hub.check_alerts(1) == []
    clock.advance(minutes=9, seconds=59)
    assert hub.check_alerts(1) == []  # 9:59 < 10:00
    clock.advance(seconds=1)
    assert hub.check_alerts(1) == [("raise", "wait_target", "A")]
    raised = wait(board, "alert_raised")[0]
    alert = raised["alert"]
    assert alert["kind"] == "wait_target" and alert["open"] and alert["data"]["target_min"] == 10
    assert "10" in alert["messages"]["fr"] and "Allocations familiales" in alert["messages"]["fr"]
    assert "التعويضات العائلية" in alert["messages"]["ar"]
    clock.advance(minutes=5)
    assert hub.check_alerts(1) == []  # still over: raised once per breach
    pic = wait(board, "dashboard_live", predicate=lambda p: service(p, "A")["breached"])[0]
    assert service(pic, "A")["longest_wait_s"] >= 600
    # the wait ends: nobody waits, counters free: back under 90 % -> cleared (by a batch)
    assert api.call_next(1).get_json()["code"] == first["code"]
    api.post("/counters/1/start")
    api.post("/counters/1/finish", {"outcome": "served"})
    cleared = wait(board, "alert_cleared", timeout=5)[0]["alert"]
    assert cleared["id"] == alert["id"] and not cleared["open"]
    with api.tabour.db.read() as conn:
        rows = conn.execute(select(schema.alerts)).all()
        events = dict(conn.execute(select(schema.events.c.type, func.count()).where(
            schema.events.c.type.like("alert_%")).group_by(schema.events.c.type)).all())
    assert len(rows) == 1 and rows[0].cleared_at is not None
    assert events == {"alert_raised": 1, "alert_cleared": 1}
    for other in (counters_room, display, kiosk):  # consoles, wall displays, kiosks: not theirs
        names = set(inbox(other).names())
        assert "snapshot" in names
        assert not names & {"alert_raised", "alert_cleared", "dashboard_live", "dashboard_today"}


def test_a_long_break_raises_an_alert_that_clears_when_the_counter_resumes(api, manager, clock):
    hub = api.tabour.dashboard
    hub.alerts_owner = True
    assert api.patch("/admin/policy", {"pause_alert_minutes": 15}).status_code == 200
    api.open(4)
    api.post("/counters/4/pause")
    board = connect(api, manager.token, view="dashboard", lang="fr")
    wait(board, "snapshot")
    clock.advance(minutes=14)
    assert hub.check_alerts(1) == []
    clock.advance(minutes=1)
    assert hub.check_alerts(1) == [("raise", "counter_paused", "4")]
    alert = wait(board, "alert_raised")[0]["alert"]
    assert alert["data"] == {"counter": 4, "limit_min": 15, "since": "09:30"}
    assert "4" in alert["messages"]["en"] and "15 min" in alert["messages"]["en"]
    pic = manager.get("/dashboard").get_json()["live"]
    assert counter(pic, 4)["alert"] is True
    api.post("/counters/4/resume")
    wait(board, "alert_cleared", timeout=5)  # evaluated after the batch, off the request


def test_acknowledging_an_alert(api, manager, clock):
    cmds = api.tabour.commands
    aid = cmds.raise_alert(1, "printer", "kiosk-1", {"printer": "kiosk-1", "detail": "paper out"})
    assert aid is not None
    assert cmds.raise_alert(1, "printer", "kiosk-1", {"printer": "kiosk-1"}) is None  # open
    board = connect(api, manager.token, view="dashboard", lang="fr")
    (snap,) = wait(board, "snapshot")
    (listed,) = snap["dashboard"]["alerts"]
    assert listed["id"] == aid and listed["messages"]["en"].startswith("Printer kiosk-1")
    agent = api.user("amine", "agent")
    r = agent.post(f"/dashboard/alerts/{aid}/acknowledge")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "role_forbidden"
    r = manager.post(f"/dashboard/alerts/{aid}/acknowledge")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["acknowledged_by"] == "salma" and r.get_json()["open"]
    acked = wait(board, "alert_acknowledged")[0]["alert"]
    assert acked["acknowledged_at"] is not None
    r = manager.post(f"/dashboard/alerts/{aid}/acknowledge")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "alert_already_acknowledged"
    r = manager.post("/dashboard/alerts/999/acknowledge")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "alert_not_found"
    assert cmds.clear_alert(1, "printer", "kiosk-1") is True
    assert cmds.clear_alert(1, "printer", "kiosk-1") is False
    # raised again after it cleared: a new breach, a new alert
    assert cmds.raise_alert(1, "printer", "kiosk-1", {"printer": "kiosk-1", "detail": "x"}) > aid
    page = manager.get("/dashboard/alerts?limit=1").get_json()["alerts"]
    assert len(page) == 1 and page[0]["open"]
    older = manager.get(f"/dashboard/alerts?before={page[0]['id']}").get_json()["alerts"]
    assert [a["id"] for a in older] == [aid]
    assert manager.get("/dashboard/alerts?limit=0").status_code == 400
    assert manager.get("/dashboard/alerts?before=x").status_code == 400


def test_an_alert_raised_inside_another_commands_transaction(api, clock):
    """The printing side raises and clears inside its own units of work."""
    from queue_server.commands.alerts import clear_in, raise_in
    w = api.tabour.commands.writer
    ids = w.run(1, lambda uow, p: (raise_in(uow, p, "print_job", "job-1", {
        "printer": "kiosk-1", "ticket": "A-001", "minutes": 2}),
        raise_in(uow, p, "print_job", "job-1", {})))[0]
    assert ids[0] is not None and ids[1] is None  # the second: the same transaction's row
    p = api.tabour.view(1)
    assert p.alerts.open("print_job", "job-1")["data"]["ticket"] == "A-001"
    assert w.run(1, lambda uow, p: clear_in(uow, p, "print_job", "job-1"))[0] is True
    assert p.alerts.open("print_job", "job-1") is None


@pytest.mark.parametrize("role", ["agent", "kiosk", "display", "printer"])
def test_who_may_watch_the_dashboard(api, role):
    token = api.user("amine", "agent").token if role == "agent" else api.device(role).token
    client = connect(api, token, view="dashboard", lang="fr")
    assert not client.is_connected()
    api_as = api.as_token(token)
    r = api_as.get("/dashboard")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "role_forbidden"
    assert api_as.get("/dashboard/alerts").status_code == 403


def test_dashboard_routes_for_managers_of_their_own_branch(api, manager):
    bid, nadia = second_branch(api)
    assert api.as_token(None).get("/dashboard").status_code == 401
    assert manager.get("/dashboard").status_code == 200
    assert api.get("/dashboard").status_code == 200
    r = manager.get("/dashboard?branch=alger-centre")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "other_branch_admin"
    assert nadia.get("/dashboard?branch=casa-hay-hassani").status_code == 403
    r = manager.get("/dashboard?branch=nowhere")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "unknown_branch"
    assert nadia.get("/dashboard").get_json()["branch"]["code"] == "alger-centre"
    board = connect(api, manager.token, view="dashboard")
    assert board.is_connected()
    assert api.tabour.dashboard.watchers(1) and not api.tabour.dashboard.watchers(bid)
    admin_board = connect(api, api.token)  # an admin's default view is the dashboard
    assert wait(admin_board, "snapshot")[0]["view"] == "dashboard"
    # another branch's manager watches their own branch, and gets none of this one's facts
    theirs = connect(api, nadia.token, view="dashboard")
    (snap,) = wait(theirs, "snapshot")
    assert snap["branch"]["code"] == "alger-centre" and snap["dashboard"]["alerts"] == []
    api.tabour.commands.raise_alert(1, "printer", "p1", {"printer": "p1", "detail": "x"})
    wait(board, "alert_raised")
    assert "alert_raised" not in inbox(theirs).names()
