"""A branch whose time zone is far from the server's: the branch day, its rollover,
today's figures and every time shown follow the BRANCH's zone, never the server's.

- a real server process run with TZ=UTC, a branch in a zone whose business day is not
  UTC's date right now (Pacific/Kiritimati, UTC+14, or Pacific/Pago_Pago, UTC-11,
  whichever differs when the test runs): the ticket's day and times, the display's
  call, today's report;
- in process with a moved clock (the process's own TZ set 25 hours away from the
  branch): the rollover at 04:00 in the branch's zone closes the day and restarts the
  numbering, and today's figures follow.
"""
from __future__ import annotations

import queue
import time as _time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import requests

from integration.live_display.helpers import BASE_CONFIG
from support.app import ADMIN_PASSWORD
from support.server import ServerProcess

ROLLOVER = 4  # config/branches.toml: the branch day starts at 04:00 local time
FAR = {"Pacific/Kiritimati": "+14:00", "Pacific/Pago_Pago": "-11:00"}


def business_day(now: datetime, zone: str) -> date:
    return (now.astimezone(ZoneInfo(zone)) - timedelta(hours=ROLLOVER)).date()


def zone_off_utc(now: datetime) -> str:
    """A far zone whose branch day is not UTC's date, now and for the next 5 minutes."""
    for zone in FAR:
        days = {business_day(now + timedelta(minutes=m), zone) for m in (0, 5)}
        if len(days) == 1 and days != {(now + timedelta(minutes=m)).date() for m in (0, 5)}:
            return zone
    raise AssertionError("no far zone differs from UTC now")  # cannot happen: see FAR


def config_in(zone: str, path) -> None:
    path.write_text(BASE_CONFIG.replace('timezone = "Africa/Casablanca"',
                                        f'timezone = "{zone}"', 1), encoding="utf-8")


def test_a_server_on_utc_shows_the_branch_day_and_times(tmp_path):
    import socketio
    zone = zone_off_utc(datetime.now(timezone.utc))
    offset = FAR[zone]
    config_in(zone, tmp_path / "branches.toml")
    server = ServerProcess(f"sqlite:///{tmp_path / 'tz.sqlite'}", tmp_path / "server.log",
                           ADMIN_PASSWORD, TZ="UTC", TABOUR_CONFIG=str(tmp_path / "branches.toml"),
                           TABOUR_VAR_DIR=str(tmp_path / "var"), TABOUR_AGENT="0").start(60)
    display = socketio.Client(reconnection=False)
    calls: queue.Queue = queue.Queue()
    display.on("ticket_called", calls.put)
    try:
        h = {"Authorization": f"Bearer {server.token()}"}
        r = requests.post(f"{server.url}/api/v1/devices", headers=h, timeout=10,
                          json={"role": "display", "name": "hall"})
        assert r.status_code == 201, r.text
        display.connect(server.url, auth={"token": r.json()["token"]},
                        transports=["websocket"], wait_timeout=20)
        before = datetime.now(timezone.utc)
        requests.post(f"{server.url}/api/v1/counters/1/open", headers=h, timeout=10,
                      json={}).raise_for_status()
        r = requests.post(f"{server.url}/api/v1/tickets", headers=h, timeout=10,
                          json={"service": "A"})
        assert r.status_code == 201, r.text
        ticket = r.json()
        called = requests.post(f"{server.url}/api/v1/counters/1/call-next", headers=h,
                               timeout=10, json={})
        assert called.status_code == 200, called.text
        shown = calls.get(timeout=10)
        today = requests.get(f"{server.url}/api/v1/reports/today", headers=h, timeout=20)
        after = datetime.now(timezone.utc)
    finally:
        display.disconnect()
        server.stop()

    expected_day = business_day(before, zone)
    assert expected_day != before.date()  # the server's own date would be wrong
    assert ticket["day"] == expected_day.isoformat()
    assert ticket["code"] == "A-001"
    for at in (ticket["issued_at"], called.json()["called_at"], shown["at"]):
        assert at.endswith(offset), at  # shown in the branch's zone, not the server's
        assert before - timedelta(seconds=1) <= datetime.fromisoformat(at) <= after
    assert shown["code"] == ticket["code"] and shown["counter"] == 1

    figures = today.json()
    assert today.status_code == 200 and figures["day"] == expected_day.isoformat()
    assert figures["generated_at"].endswith(offset)
    assert figures["totals"]["issued"] == 1
    local_hour = datetime.fromisoformat(ticket["issued_at"]).hour
    assert figures["hours"] == [f"{local_hour:02d}"]


@pytest.fixture
def far_process_tz(monkeypatch):
    """The test process (the in-process server) on Pago Pago time: 25 hours from the
    branch's Kiritimati."""
    monkeypatch.setenv("TZ", "Pacific/Pago_Pago")
    _time.tzset()
    yield
    monkeypatch.undo()
    _time.tzset()


def test_the_rollover_follows_the_branch_zone(tmp_path, clock, far_process_tz):
    from queue_server import housekeeping
    from support.api import Api
    from support.app import make_app
    config_in("Pacific/Kiritimati", tmp_path / "branches.toml")
    # 13:50 UTC on the 23rd: 03:50 on the 24th in Kiritimati (the branch day of the
    # 23rd until 04:00), 02:50 on the 23rd in Pago Pago (the process's zone)
    clock.now = datetime(2026, 11, 23, 13, 50, tzinfo=timezone.utc)
    app = make_app(f"sqlite:///{tmp_path / 'tz.sqlite'}", clock,
                   config_path=tmp_path / "branches.toml", var_dir=tmp_path / "var")
    try:
        api = Api(app).login("admin", ADMIN_PASSWORD)
        api.open(1)
        late = api.issue("A")
        assert (late["code"], late["day"]) == ("A-001", "2026-11-23")
        assert late["issued_at"] == "2026-11-24T03:50:00+14:00"
        assert housekeeping.run_once(api.tabour) == 0  # still the 23rd's branch day

        clock.now = datetime(2026, 11, 23, 14, 1, tzinfo=timezone.utc)  # 04:01 local
        assert housekeeping.run_once(api.tabour) == 2  # the ticket, and counter 1
        assert api.get(f"/tickets/{late['id']}").get_json()["status"] == "cancelled"
        fresh = api.issue("A")
        assert (fresh["code"], fresh["day"]) == ("A-001", "2026-11-24")
        assert fresh["issued_at"] == "2026-11-24T04:01:00+14:00"
        today = api.get("/reports/today").get_json()
        assert today["day"] == "2026-11-24" and today["totals"]["issued"] == 1
        assert today["hours"] == ["04"]  # the local hour of issue, not 14 (UTC) or 03
    finally:
        app.extensions["tabour"].db.dispose()
