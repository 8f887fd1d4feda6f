"""Housekeeping runs once per deployment, not once per process: three server processes
start on a database an earlier branch day left behind (tickets waiting and called,
a counter open); exactly one process takes the "housekeeping" lease and closes that
day, each left-over ticket is closed once, and the others never do it."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from support.app import ADMIN_PASSWORD, make_app
from support.api import Api
from support.clock import FakeClock
from support.topology import Topology

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def leave_a_day_behind(url: str) -> tuple[list[int], int]:
    """Three days ago (the app's clock): counter 1 opened, three tickets, one called."""
    clock = FakeClock(datetime.now(timezone.utc) - timedelta(days=3))
    app = make_app(url, clock)
    try:
        api = Api(app).login("admin", ADMIN_PASSWORD)
        api.open(1)
        ids = [api.issue("A")["id"] for _ in range(3)]
        assert api.call_next(1).get_json()["id"] == ids[0]
        counter_id = api.tabour.view(api.tabour.branch_ids()[0]).counter_by_number(1).id
    finally:
        app.extensions["tabour"].db.dispose()
    return ids, counter_id


def plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def test_one_process_closes_the_day(pg_databases, shared_redis, tmp_path):
    url = pg_databases.new()
    tickets, counter_id = leave_a_day_behind(url)
    topo = Topology(tmp_path / "topology", url, processes=3, password=ADMIN_PASSWORD)
    with topo:  # migrates (nothing to do) and starts the three processes at once
        deadline = time.monotonic() + 40
        while True:
            with psycopg.connect(plain(url)) as conn:
                statuses = dict(conn.execute(
                    "SELECT id, status FROM tickets WHERE id = ANY(%s)", (tickets,)).fetchall())
                counter = conn.execute("SELECT state FROM counters WHERE id = %s",
                                       (counter_id,)).fetchone()[0]
            if set(statuses.values()) == {"cancelled"} and counter == "closed":
                break
            assert time.monotonic() < deadline, f"the day was not closed: {statuses}, {counter}"
            time.sleep(0.2)
        # two more housekeeping rounds (every 5 s) of every process: nobody does it again
        time.sleep(11)
        with psycopg.connect(plain(url)) as conn:
            closing = conn.execute(
                "SELECT ticket_id, counter_id, type FROM events WHERE actor LIKE %s "
                "ORDER BY seq", ("%rollover%",)).fetchall()
            holder = conn.execute("SELECT owner FROM leases WHERE name = 'housekeeping'"
                                  ).fetchone()[0]
        logs = [s.log_path.read_text(errors="replace") for s in topo.servers]
        pids = [s.pid for s in topo.servers]

    # each left-over ticket closed once, the counter once: one process's work
    per_ticket = {t: [ty for tid, _c, ty in closing if tid == t] for t in tickets}
    assert all(len(v) == 1 for v in per_ticket.values()), per_ticket
    counter_events = [ty for tid, cid, ty in closing if tid is None and cid == counter_id]
    assert counter_events == ["counter_closed"], closing
    assert len(closing) == 4, closing

    # one process took the lease and closed the day; the other two never held it
    took = [i for i, text in enumerate(logs) if "housekeeping lease taken" in text]
    closed = [i for i, text in enumerate(logs) if "day closed:" in text]
    assert len(took) == 1 and closed == took, (took, closed)
    assert f":{pids[took[0]]}:" in holder, (holder, pids)


def test_a_round_stops_when_its_lease_is_lost(tmp_path, clock):
    """A round over many branches renews the lease branch by branch; once another
    process has it, this one stops (it would write the same day's summaries twice)."""
    from queue_server import housekeeping
    from integration.live_display.helpers import BASE_CONFIG
    body = BASE_CONFIG.split("[[branch]]", 1)[1]
    config = tmp_path / "branches.toml"
    config.write_text(BASE_CONFIG + "\n[[branch]]" + body.replace(
        'code = "casa-hay-hassani"', 'code = "rabat-agdal"', 1), encoding="utf-8")
    clock.now = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    app = make_app(f"sqlite:///{tmp_path / 'hk.sqlite'}", clock, config_path=config,
                   var_dir=tmp_path / "var")
    try:
        t = app.extensions["tabour"]
        first, second = sorted(t.branch_ids())
        tickets = {}
        for bid in (first, second):
            t.auth.create_user(bid, f"m{bid}", "password-123", "manager", "M")
            api = Api(app).login(f"m{bid}", "password-123")
            tickets[bid] = api.issue("A")["id"]
        clock.now += timedelta(days=1)
        checks = []
        held = lambda: checks.append(1) or len(checks) <= 1  # noqa: E731 - lost after one
        assert housekeeping.run_once(t, still_held=held) == 1
        with t.db.read() as conn:
            from sqlalchemy import select

            from queue_server.db import schema
            status = dict(conn.execute(select(schema.tickets.c.branch_id,
                                              schema.tickets.c.status)).all())
        assert status == {first: "cancelled", second: "waiting"}
    finally:
        app.extensions["tabour"].db.dispose()


def test_a_round_renews_its_lease_by_time_not_at_every_branch():
    """The lease (30 s) is renewed once a third of it went by, not once a branch: a
    round over 150 branches wrote it 150 times a minute."""
    from types import SimpleNamespace

    from queue_server import housekeeping
    holds = []
    answer = [True]
    leases = SimpleNamespace(ttl_s=30.0, hold=lambda name: holds.append(name) or answer[0])
    now = [100.0]
    still_held = housekeeping._renewing(SimpleNamespace(leases=leases), clock=lambda: now[0])
    assert all(still_held() for _ in range(150)) and holds == []  # just taken: no write
    now[0] += 10.0
    assert still_held() and holds == ["housekeeping"]
    assert still_held() and len(holds) == 1  # renewed: the next 10 s need no write
    now[0] += 10.0
    answer[0] = False  # another process has it now
    assert not still_held()
    # held 9 s ago (the round's sweeps took that long): renewed after 1 s, not after 10
    late = housekeeping._renewing(SimpleNamespace(leases=leases), held_at=now[0] - 9.0,
                                  clock=lambda: now[0])
    answer[0], holds[:] = True, []
    assert late() and holds == []
    now[0] += 1.0
    assert late() and holds == ["housekeeping"]
