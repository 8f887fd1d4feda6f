"""The branch day: numbering restarts at the rollover hour, in the branch's zone;
left-over tickets are closed, or kept overnight when the branch says so."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import event, update

from queue_server import housekeeping
from queue_server.db import schema

from support.app import ADMIN_PASSWORD


def relogin(api):
    """Staff sessions last 12 hours: these tests jump across days."""
    from support.api import Api
    return Api(api.app).login("admin", ADMIN_PASSWORD)


def set_policy(api, **policy):
    with api.tabour.db.write() as conn:
        row = conn.execute(schema.branches.select()).first()
        conn.execute(update(schema.branches).values(policy={**row.policy, **policy}))
    api.tabour.projections.forget(row.id)  # written behind the commands' back: re-read


def test_rollover_restarts_numbering_and_closes_the_day(api, clock):
    clock.now = datetime(2026, 11, 23, 20, 0, tzinfo=timezone.utc)  # 21:00 in Casablanca
    api.open(1)
    late = api.issue("A")
    assert late["code"] == "A-001" and late["day"] == "2026-11-23"
    clock.now = datetime(2026, 11, 24, 2, 30, tzinfo=timezone.utc)  # 03:30 local: same day
    api = relogin(api)
    assert api.issue("A")["code"] == "A-002"
    assert housekeeping.run_once(api.tabour) == 0
    clock.now = datetime(2026, 11, 24, 3, 1, tzinfo=timezone.utc)  # 04:01 local: a new day
    assert housekeeping.run_once(api.tabour) == 3  # two tickets, and counter 1 left open
    assert api.get(f"/tickets/{late['id']}").get_json()["status"] == "cancelled"
    assert api.get("/counters").get_json()["counters"][0]["state"] == "closed"
    fresh = api.issue("A")
    assert fresh["code"] == "A-001" and fresh["day"] == "2026-11-24"
    assert fresh["people_ahead"] == 0
    api.open(1)  # the morning's agent opens the counter
    assert api.call_next(1).get_json()["id"] == fresh["id"]


def test_kept_overnight_the_queue_and_its_numbers_continue(api, clock):
    set_policy(api, keep_overnight=True)
    clock.now = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)
    api.open(1)
    first = api.issue("A")
    api.issue("A")
    clock.now = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)  # the antenna's next day
    api = relogin(api)
    assert housekeeping.run_once(api.tabour) == 1  # the counter left open; the tickets stay
    api.open(1)
    nxt = api.issue("A")
    assert nxt["code"] == "A-003" and nxt["day"] == "2026-11-24" and nxt["people_ahead"] == 2
    assert api.call_next(1).get_json()["id"] == first["id"]


def test_an_algerian_branch_counts_days_in_its_own_zone(api, clock):
    with api.tabour.db.write() as conn:
        conn.execute(update(schema.branches).values(timezone="Africa/Algiers"))
    set_policy(api, rollover_hour=0)
    clock.now = datetime(2026, 11, 23, 23, 30, tzinfo=timezone.utc)  # 00:30 in Algiers
    api = relogin(api)
    t = api.issue("C")
    assert t["day"] == "2026-11-24" and t["issued_at"] == "2026-11-24T00:30:00+01:00"


def test_rollover_frees_a_counter_left_with_a_call(api, clock):
    clock.now = datetime(2026, 11, 23, 19, 0, tzinfo=timezone.utc)
    api.open(1)
    t = api.issue("A")
    api.call_next(1)  # the agent went home without finishing
    clock.now = datetime(2026, 11, 24, 7, 0, tzinfo=timezone.utc)
    api = relogin(api)
    assert housekeeping.run_once(api.tabour) == 2  # the ticket, then its counter
    assert api.get(f"/tickets/{t['id']}").get_json()["status"] == "cancelled"
    counter = next(c for c in api.get("/counters").get_json()["counters"] if c["number"] == 1)
    assert counter["state"] == "closed" and counter["current_ticket"] is None


def test_a_round_with_nothing_left_writes_nothing_and_reads_the_summaries_once(api, clock):
    """Housekeeping asks every branch once a minute; nearly always nothing is left. Such
    a round answers from the projection and from what it saw summarised: no write
    transaction, and after the day's first round no read of the summaries either."""
    from support.sql_count import counting
    clock.now = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
    api = relogin(api)
    api.open(1)
    api.issue("A")  # today's: nothing an earlier day left
    engine = api.tabour.db.engine
    writes = []  # write transactions begun (PostgreSQL's BEGIN runs no statement)

    def began(conn):
        if conn.get_execution_options().get("tabour_write"):
            writes.append(1)
    event.listen(engine, "begin", began)
    try:
        with counting(engine) as first:
            assert housekeeping.run_once(api.tabour) == 0
        # the first round summarises yesterday (or sees it summarised): one write
        assert len(writes) <= 1, first
        writes.clear()
        with counting(engine) as later:
            assert housekeeping.run_once(api.tabour) == 0
    finally:
        event.remove(engine, "begin", began)
    # the list of branches, and nothing else (SQLite's BEGIN of that read aside)
    assert not writes, later
    assert [st for st in later if st.strip() != "BEGIN"] == [
        "SELECT branches.id FROM branches ORDER BY"], later
    # the next day's round still closes what this one left
    clock.now = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
    api = relogin(api)
    assert housekeeping.run_once(api.tabour) == 2  # the ticket, and counter 1 left open
