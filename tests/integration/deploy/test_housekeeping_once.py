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
