"""Wall displays: refused with a clear message for a wrong token or an unknown zone, zones
seeded from the file and edited live, and a display that misses three calls shows them all after it reconnects."""
from __future__ import annotations

import pytest

from .helpers import app_with, close, connect, received, recorded

HALL = """
[[branch.display]]
zone = "hall"
services = ["A"]
"""


@pytest.fixture
def setup(tmp_path, clock):
    app, api, config = app_with(tmp_path, clock, HALL)
    yield app, api, config
    close(app)


def test_wrong_token_is_refused(setup):
    app, api, _ = setup
    assert not connect(app, "not-a-token", view="display").is_connected()
    assert not connect(app, api.device("kiosk").token, view="display").is_connected()


def test_unknown_zone_is_refused_with_the_known_zones(setup):
    app, api, config = setup
    token = api.device("display").token
    assert not connect(app, token, view="display", zone="garden").is_connected()
    from queue_server.engine.errors import NotFound
    from queue_server.readmodel import zones as display_zones
    with pytest.raises(NotFound) as refused:
        display_zones.resolve(app.extensions["tabour"].view(1).branch, "garden")
    assert refused.value.code == "unknown_display_zone"
    assert "'garden'" in refused.value.message and "hall" in refused.value.message


def test_zone_filters_the_snapshot_and_new_zones_need_no_restart(setup):
    app, api, config = setup
    token = api.device("display").token
    hall = connect(app, token, view="display", zone="hall")
    assert hall.is_connected()
    (snap,) = received(hall, "snapshot")
    assert [s["prefix"] for s in snap["services"]] == ["A"]
    assert snap["zone"]["name"] == "hall"
    # zones are seeded from the file once, then edited at /admin/ (kept in the database)
    r = api.client.put("/api/v1/admin/display-zones", headers=api._headers(), json={"zones": [
        {"name": "hall", "services": ["A"]}, {"name": "upstairs", "counters": [5, 6]}]})
    assert r.status_code == 200, r.get_json()
    up = connect(app, token, view="display", zone="upstairs")
    assert up.is_connected()
    (snap,) = received(up, "snapshot")
    assert [c["number"] for c in snap["counters"]] == [5, 6]


def test_a_display_that_misses_three_calls_shows_them_after_reconnecting(setup):
    app, api, _ = setup
    token = api.device("display").token
    display = connect(app, token, view="display")
    (first,) = received(display, "snapshot")
    display.disconnect()
    api.open(1)
    api.open(2)
    api.open(3)
    codes = [api.issue(s)["code"] for s in ("A", "A", "B")]
    for n in (1, 2, 3):
        assert api.call_next(n).status_code == 200
    display = connect(app, token, view="display")
    (snap,) = received(display, "snapshot")
    shown = [(c["code"], c["counter"]) for c in snap["calls"]]
    assert sorted(shown) == sorted(zip(codes, (1, 2, 3)))
    assert snap["seq"] > first["seq"]
    # and the announcements made while it was away can be replayed (they are fresh)
    recorded(app.extensions["tabour"], 3)  # each said, then recorded
    r = app.test_client().get(f"/display/announcements?after={first['seq']}",
                              headers={"Authorization": f"Bearer {token}"})
    assert [a["code"] for a in r.get_json()["announcements"]] == codes
    assert app.test_client().get("/display/announcements").status_code == 401


def test_a_console_action_on_a_ticket_another_counter_took_is_refused(setup):
    app, api, _ = setup
    api.open(1)
    api.open(2)
    t = api.issue("A")
    api.call_next(1)
    for action, body in (("recall", {}), ("start", {}), ("no-show", {}), ("park", {}),
                         ("finish", {"outcome": "served"})):
        r = api.post(f"/counters/2/{action}", {"ticket_id": t["id"], **body})
        assert r.status_code == 409, (action, r.get_json())
        assert r.get_json()["error"]["message"]
    ticket = api.get(f"/tickets/{t['id']}").get_json()
    assert ticket["status"] == "called" and ticket["counter"] == 1  # nothing changed
