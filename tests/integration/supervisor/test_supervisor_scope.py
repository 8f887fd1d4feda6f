"""Supervisors (issue 13): a scope of regions, of branch codes, or the whole network.

A supervisor of one region sees and watches that region's branches only: the rows
(GET /api/v1/supervisor, socket view "supervisor"), a branch's dashboard (REST and
socket, ``branch``) and its reports; another region's branch is refused with 403
``out_of_scope`` and a message. Nothing a supervisor does changes a branch (no counter,
ticket, alert or administration). National sees every branch. A row's numbers are the
branch dashboard's; rows arrive live (a snapshot, then ``supervisor_rows``) and only to
the supervisors whose scope holds the branch. On SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from queue_server.auth import Scope
from queue_server.readmodel.rollup import severity
from support.api import Api
from support.app import make_app
from support.regions import CASA, RABAT, network_config
from support.sio import inbox

TIZNIT = "tiznit"  # a branch with no region: national supervisors only


@pytest.fixture
def app(db_url, clock, tmp_path):
    cfg = network_config(tmp_path, {RABAT: ("rabat-sale-kenitra", "Agence Agdal", "وكالة أكدال"),
                                    TIZNIT: (None, "Agence Tiznit", "وكالة تيزنيت")})
    app = make_app(db_url, clock, config_path=cfg)
    yield app
    app.extensions["tabour"].db.dispose()


def branch_id(api, code):
    from queue_server.db import repo
    with api.tabour.db.read() as conn:
        return repo.branch_by_code(conn, code).id


def supervisor(api, username, **scope) -> Api:
    t = api.tabour
    sc = Scope(scope.get("national", False), frozenset(scope.get("regions", ())),
               frozenset(scope.get("branches", ())))
    home = branch_id(api, scope.get("home", CASA))
    t.auth.create_user(home, username, "password-123", "supervisor", username.title(), sc)
    return api.login(username, "password-123")


def staff_of(api, code, username, role) -> Api:
    api.tabour.auth.create_user(branch_id(api, code), username, "password-123", role)
    return api.login(username, "password-123")


def kiosk_of(api, code, open_counter: int = 6) -> Api:
    """A kiosk of the branch, with a counter open there (a service with none is closed)."""
    staff_of(api, code, f"m-{code}", "manager").open(open_counter)
    return api.as_token(api.tabour.auth.create_device(branch_id(api, code), "kiosk", "k"))


def connect(api, token, **auth):
    return api.tabour.socketio.test_client(api.app, auth={"token": token, **auth})


def wait(client, name, count=1, timeout=5.0, predicate=lambda p: True):
    return inbox(client).wait(name, count, timeout, predicate)


def row(rows, code):
    return next(r for r in rows if r["branch"] == code)


def test_a_regional_supervisor_sees_and_opens_its_region_only(api):
    sara = supervisor(api, "sara", regions=["casa-settat"])
    body = sara.get("/supervisor").get_json()
    assert [r["branch"] for r in body["rows"]] == [CASA]
    assert body["scope"] == {"regions": ["casa-settat"]}
    assert set(body["regions"]) == {"casa-settat", "rabat-sale-kenitra"}

    # its region's dashboard and reports: yes
    r = sara.get(f"/dashboard?branch={CASA}")
    assert r.status_code == 200 and r.get_json()["branch"]["code"] == CASA
    assert sara.get(f"/reports/today?branch={CASA}").status_code == 200
    # another region's: 403 with a code and a message a person can act on
    for path in (f"/dashboard?branch={RABAT}", f"/reports/today?branch={RABAT}",
                 f"/dashboard/alerts?branch={RABAT}", f"/reports?branch={RABAT}"
                 "&from=2026-11-23&to=2026-11-23", f"/dashboard?branch={TIZNIT}"):
        r = sara.get(path, headers={"Accept-Language": "fr"})
        assert r.status_code == 403, (path, r.get_json())
        err = r.get_json()["error"]
        assert err["code"] == "out_of_scope", path
        assert RABAT in err["message"] or TIZNIT in err["message"]
        assert "supervision" in err["message"]
    assert sara.get("/dashboard?branch=nowhere").status_code == 400  # unknown: a 400

    # the socket: its region's board joins, the other region's is refused
    board = connect(api, sara.token, view="dashboard", branch=CASA)
    assert board.is_connected()
    snap = wait(board, "snapshot")[0]
    assert snap["branch"]["code"] == CASA and snap["dashboard"]["readonly"] is True
    assert not connect(api, sara.token, view="dashboard", branch=RABAT).is_connected()
    assert not connect(api, sara.token, view="dashboard", branch=TIZNIT).is_connected()
    # 'branch' belongs to the dashboard view only
    assert not connect(api, sara.token, view="supervisor", branch=CASA).is_connected()


def test_a_supervisor_changes_nothing(api):
    """Read-only: no ticket, no counter, no alert acknowledged, no administration, no
    other view, in its own region too."""
    api.open(1)
    sara = supervisor(api, "sara", regions=["casa-settat"])
    for method, path, body in (
            ("post", "/tickets", {"service": "A", "priority": False, "language": "fr"}),
            ("post", "/counters/1/open", {}), ("post", "/counters/1/call-next", {}),
            ("post", "/counters/1/pause", {}), ("post", "/tickets/1/cancel", {}),
            ("post", "/dashboard/alerts/1/acknowledge", {}),
            ("get", "/admin/overview", None), ("post", "/admin/users",
                                               {"username": "x1", "password": "password-123",
                                                "role": "agent"}),
            ("patch", "/services/A", {"target_wait_minutes": 5}),
            ("get", "/counters", None), ("get", "/tickets/1", None),
            ("post", "/devices", {"role": "kiosk", "name": "k"})):
        r = getattr(sara, method)(path, body) if body is not None else getattr(sara, method)(path)
        assert r.status_code == 403, (method, path, r.get_json())
        assert r.get_json()["error"]["code"] == "role_forbidden", path
    for view in ("counter", "kiosk", "display", "printer"):
        assert not connect(api, sara.token, view=view).is_connected(), view
    assert api.tabour.view(1).counter_row(1).counter.state.value == "open"


def test_national_sees_every_branch_and_a_list_its_branches(api):
    nour = supervisor(api, "nour", national=True)
    rows = nour.get("/supervisor").get_json()["rows"]
    assert sorted(r["branch"] for r in rows) == sorted([CASA, RABAT, TIZNIT])
    assert row(rows, TIZNIT)["region"] is None and row(rows, RABAT)["region"] == "rabat-sale-kenitra"
    for code in (CASA, RABAT, TIZNIT):
        assert nour.get(f"/dashboard?branch={code}").status_code == 200
    lina = supervisor(api, "lina", branches=[RABAT, TIZNIT], home=RABAT)
    assert sorted(r["branch"] for r in lina.get("/supervisor").get_json()["rows"]) == \
        sorted([RABAT, TIZNIT])
    assert lina.get(f"/dashboard?branch={CASA}").get_json()["error"]["code"] == "out_of_scope"
    # its home branch is in its scope; GET /dashboard without ?branch= is that one
    assert lina.get("/dashboard").get_json()["branch"]["code"] == RABAT


def test_rows_arrive_live_to_the_supervisors_of_the_branch_only(api, clock):
    sara = supervisor(api, "sara", regions=["casa-settat"])
    rachid = supervisor(api, "rachid", regions=["rabat-sale-kenitra"], home=RABAT)
    nour = supervisor(api, "nour", national=True)
    lina = supervisor(api, "lina", branches=[TIZNIT], home=TIZNIT)
    socks = {name: connect(api, who.token, view="supervisor", lang="fr")
             for name, who in (("sara", sara), ("rachid", rachid), ("nour", nour),
                               ("lina", lina))}
    for name, client in socks.items():
        assert client.is_connected(), name
    snaps = {name: wait(c, "snapshot")[0] for name, c in socks.items()}
    assert [r["branch"] for r in snaps["sara"]["rows"]] == [CASA]
    assert [r["branch"] for r in snaps["rachid"]["rows"]] == [RABAT]
    assert [r["branch"] for r in snaps["lina"]["rows"]] == [TIZNIT]
    assert len(snaps["nour"]["rows"]) == 3

    kiosk_of(api, RABAT).issue("B")
    # (the counter opened first may come as a row of its own, with nobody waiting)
    got = wait(socks["rachid"], "supervisor_rows", predicate=lambda p: p["rows"][0]["waiting"])[0]
    assert [(r["branch"], r["waiting"]) for r in got["rows"]] == [(RABAT, 1)]
    assert row(got["rows"], RABAT)["waits"][0]["service"] == "B"
    got = wait(socks["nour"], "supervisor_rows",  # (the counter's row may come first here too)
               predicate=lambda p: p["rows"][0]["branch"] == RABAT and p["rows"][0]["waiting"])
    assert got[0]["rows"][0]["waiting"] == 1
    kiosk_of(api, TIZNIT).issue("A")
    assert wait(socks["lina"], "supervisor_rows")[0]["rows"][0]["branch"] == TIZNIT
    wait(socks["nour"], "supervisor_rows", predicate=lambda p: p["rows"][0]["branch"] == TIZNIT)
    api.open(6)
    api.issue("C")  # casa
    assert wait(socks["sara"], "supervisor_rows")[0]["rows"][0]["branch"] == CASA
    wait(socks["nour"], "supervisor_rows", predicate=lambda p: p["rows"][0]["branch"] == CASA)
    # nothing of another region reached sara, rachid or lina
    for name, own in (("sara", CASA), ("rachid", RABAT), ("lina", TIZNIT)):
        seen = {r["branch"] for p in inbox(socks[name]).packets
                if p["name"] == "supervisor_rows" for r in p["args"][0]["rows"]}
        assert seen == {own}, (name, seen)


def test_a_row_is_the_branch_dashboard_to_the_unit(api, clock):
    hub = api.tabour.dashboard  # not the alerts' owner: alerts move when this test says
    nour = supervisor(api, "nour", national=True)
    assert api.patch("/services/A", {"target_wait_minutes": 10}).status_code == 200
    api.open(1)
    api.open(2)
    for prefix in ("A", "A", "B", "C", "A"):
        api.issue(prefix)
        clock.advance(minutes=1)
    api.call_next(1)
    api.post("/counters/1/start")
    clock.advance(minutes=3)
    assert api.post("/counters/1/finish", {"outcome": "served"}).status_code == 200
    api.call_next(2)
    api.post("/counters/2/start")
    clock.advance(minutes=2)
    assert api.post("/counters/2/finish", {"outcome": "served"}).status_code == 200
    api.post("/counters/2/pause")
    clock.advance(minutes=8)
    assert ("raise", "wait_target", "A") in hub.check_alerts(1)

    dash = nour.get(f"/dashboard?branch={CASA}").get_json()
    rows = nour.get("/supervisor").get_json()["rows"]
    casa = row(rows, CASA)
    live = dash["live"]
    assert casa["waiting"] == sum(s["waiting"] for s in live["services"]) == 3
    assert casa["longest_wait_s"] == max(s["longest_wait_s"] for s in live["services"])
    assert casa["counters_open"] == sum(c["state"] != "closed" for c in live["counters"]) == 2
    assert casa["counters"] == len(live["counters"])
    assert casa["served"] == dash["today"]["totals"]["served"] == 2
    assert casa["alerts"] == sum(a["open"] for a in dash["alerts"]) >= 1
    waits = {w["service"]: w for w in casa["waits"]}
    for s in live["services"]:
        if s["waiting"]:
            assert waits[s["prefix"]]["since"] == s["longest_wait_since"]
            assert waits[s["prefix"]]["target_min"] == s["target_wait_minutes"]
    # worst first: casa (a wait past its target and an alert) before the quiet branches
    assert rows[0]["branch"] == CASA and casa["worst_ratio"] >= 1.0
    assert severity(rows[0], clock()) > severity(rows[1], clock())


def test_served_today_counts_each_finish_once(api, clock):
    """A batch told twice (caught up, then by its command) counts once; a gap recounts."""
    t = api.tabour
    api.open(1)
    api.issue("A")
    api.issue("A")
    rollups = t.rollups
    assert rollups.row(1, clock())["served"] == 0
    batches = []
    t.projections.listeners.append(lambda b, batch, local: batches.append(batch))
    for _ in range(2):
        api.call_next(1)
        api.post("/counters/1/start")
        api.post("/counters/1/finish", {"outcome": "served"})
    assert rollups.row(1, clock())["served"] == 2
    for batch in batches:  # told again (a remote copy of the same batches)
        rollups.on_batch(1, batch, False)
    assert rollups.row(1, clock())["served"] == 2
    recounts = rollups.stats["recounts"]
    t.projections.forget(1)  # rebuilt from the database: the count is read again
    assert rollups.row(1, clock())["served"] == 2
    assert rollups.stats["recounts"] == recounts  # same seq: nothing missed, no recount


def test_the_role_matrix_of_the_supervisors_routes_and_view(api):
    """GET /api/v1/supervisor and the socket view "supervisor": supervisors only."""
    who = {
        "supervisor": supervisor(api, "sara", regions=["casa-settat"]),
        "agent": api.user("amine", "agent"),
        "manager": api.user("salma", "manager"),
        "admin": api,
        "kiosk": api.device("kiosk"),
        "display": api.device("display"),
        "printer": api.device("printer"),
    }
    for role, caller in who.items():
        r = caller.get("/supervisor")
        expected = 200 if role == "supervisor" else 403
        assert r.status_code == expected, (role, r.get_json())
        if expected == 403:
            assert r.get_json()["error"]["code"] == "role_forbidden"
        ok = connect(api, caller.token, view="supervisor").is_connected()
        assert ok is (role == "supervisor"), role
    assert api.as_token(None).get("/supervisor").status_code == 401
    # a manager or an admin may not open another branch's board by 'branch'
    assert not connect(api, who["manager"].token, view="dashboard", branch=RABAT).is_connected()
    assert who["manager"].get(f"/dashboard?branch={RABAT}").get_json()["error"]["code"] == \
        "other_branch_admin"
    # a supervisor's default view is its page's; the board's snapshot says read-only
    # to a supervisor and not to the branch's manager
    assert wait(connect(api, who["supervisor"].token), "snapshot")[0]["view"] == "supervisor"
    snap = wait(connect(api, who["manager"].token, view="dashboard"), "snapshot")[0]
    assert snap["dashboard"]["readonly"] is False
    # the page itself is public HTML (its data is behind the token), in the three languages
    for lang, word in (("ar", 'dir="rtl"'), ("fr", "Supervision"), ("en", "Supervision")):
        page = api.client.get(f"/supervisor/?lang={lang}")
        assert page.status_code == 200 and word in page.get_data(as_text=True)
        assert "<script>" not in page.get_data(as_text=True)  # no inline script


def test_an_admin_creates_supervisors_at_admin_users(api):
    """POST /api/v1/admin/users with role supervisor and a scope (an admin only); its
    account branch is the admin's, which need not be in its scope."""
    r = api.post("/admin/users", {"username": "rachid", "password": "password-123",
                                  "role": "supervisor",
                                  "scope": {"regions": ["rabat-sale-kenitra"]}})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["scope"] == {"regions": ["rabat-sale-kenitra"]}
    rachid = api.login("rachid", "password-123")
    assert [x["branch"] for x in rachid.get("/supervisor").get_json()["rows"]] == [RABAT]
    assert rachid.get(f"/dashboard?branch={RABAT}").status_code == 200
    # its account's branch (casa, the admin's) is not in its scope: refused by default too
    r = rachid.get("/dashboard")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "out_of_scope"
    assert not connect(api, rachid.token, view="dashboard").is_connected()
    assert connect(api, rachid.token, view="dashboard", branch=RABAT).is_connected()

    for body, status, code in (
            ({"role": "supervisor"}, 400, "supervisor_needs_scope"),
            ({"role": "supervisor", "scope": {"regions": ["r1"], "national": True}}, 400,
             "supervisor_needs_scope"),
            ({"role": "supervisor", "scope": {"regions": ["atlantis"]}}, 400, "unknown_region"),
            ({"role": "supervisor", "scope": {"branches": ["nowhere"]}}, 400, "unknown_branch"),
            ({"role": "agent", "scope": {"national": True}}, 400, "scope_only_supervisor")):
        r = api.post("/admin/users", {"username": "x-sup", "password": "password-123", **body})
        assert (r.status_code, r.get_json()["error"]["code"]) == (status, code), body
    manager = api.user("salma", "manager")
    r = manager.post("/admin/users", {"username": "x-sup", "password": "password-123",
                                      "role": "supervisor", "scope": {"national": True}})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "manager_agents_only"


def test_without_supervisors_the_fan_out_sends_nothing(api):
    """A deployment with no supervisor pays nothing; one created (an event) is heard at
    the next batch; a branch's own room is used only when a scope names the branch."""
    fo = api.tabour.fanout
    api.open(1)
    api.issue("A")
    # (the fan-out runs within the request: nothing was even scheduled)
    assert not fo._sup_pending and not fo._sup_dirty and fo.stats["supervisor_emits"] == 0
    assert api.tabour.rollups.audience() == (False, frozenset())
    r = api.post("/admin/users", {"username": "lina", "password": "password-123",
                                  "role": "supervisor", "scope": {"branches": [CASA]}})
    assert r.status_code == 201, r.get_json()
    lina = connect(api, api.login("lina", "password-123").token, view="supervisor")
    wait(lina, "snapshot")
    api.issue("A")
    got = wait(lina, "supervisor_rows", predicate=lambda p: p["rows"][0]["waiting"] == 2)
    assert got[0]["rows"][0]["branch"] == CASA and fo.stats["supervisor_emits"] >= 1
    assert api.tabour.rollups.audience() == (True, frozenset({branch_id(api, CASA)}))
