"""A counter step on PostgreSQL writes the ticket, the counter and its events in one
statement under the branch's lock (db/repo.py, ``save_step_locked``). Its guards are
the rows' versions, as when each row had a statement of its own: a row changed behind
the projection's back matches nothing, and then nothing of the step is kept (the
other rows and the events were in the same statement): the transaction rolls back."""
from __future__ import annotations

import pytest
from sqlalchemy import text

pytestmark = pytest.mark.postgres


@pytest.fixture(params=["postgres"])
def db_url(request):
    return request.getfixturevalue("pg_databases").new()


def _bump(engine, table, row_id):
    """Another writer's change the projection never heard of: the row's version moves."""
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {table} SET version = version + 1 WHERE id = :id"),
                     {"id": row_id})


def _state(engine, ticket_id, counter_id):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT (SELECT event_seq FROM branches),"
            " (SELECT version FROM tickets WHERE id = :t),"
            " (SELECT version FROM counters WHERE id = :c),"
            " (SELECT count(*) FROM events WHERE type = 'ticket_started' AND ticket_id = :t)"),
            {"t": ticket_id, "c": counter_id}).one()


@pytest.mark.parametrize("table", ["tickets", "counters"])
def test_a_stale_row_keeps_nothing_of_the_step(app, api, table):
    """The row's version moved without an event (as no real writer does: here to make
    the projection wrong under the lock): every try's guard matches nothing, so every
    try rolls back whole and the agent gets queue_busy, nothing written; once the
    projection is read afresh, the step goes through, written once."""
    tabour = app.extensions["tabour"]
    writer = tabour.commands.writer
    assert writer.lock_first  # the exact path, where the rows are deferred
    api.open(1)
    ticket = api.issue("A")
    assert api.post("/counters/1/call-next").status_code == 200
    engine = tabour.db.engine
    with engine.connect() as conn:
        counter_id = conn.execute(text("SELECT id FROM counters WHERE number = 1")).scalar()
        branch_id = conn.execute(text("SELECT id FROM branches")).scalar()
    _bump(engine, table, ticket["id"] if table == "tickets" else counter_id)
    before = _state(engine, ticket["id"], counter_id)
    stale = writer.stats["stale"]

    r = api.post("/counters/1/start")

    assert r.status_code == 409 and r.get_json()["error"]["code"] == "queue_busy", r.get_json()
    assert writer.stats["stale"] - stale == 50  # every try, each rolled back
    assert _state(engine, ticket["id"], counter_id) == before  # nothing of any try kept

    tabour.commands.writer.projections.forget(branch_id)
    r = api.post("/counters/1/start")

    assert r.status_code == 200, r.get_json()
    seq, tv, cv, started = before
    assert _state(engine, ticket["id"], counter_id) == (seq + 1, tv + 1, cv + 1, 1)
    assert api.get(f"/tickets/{ticket['id']}").get_json()["status"] == "serving"


def test_a_close_that_sends_tickets_back_writes_every_row_in_the_one_statement(app, api):
    """Closing a counter changes it and every ticket aimed at it: one statement with a
    guard for each row (a shape of its own, built once and kept)."""
    api.open(1)
    api.open(2)
    aimed = []
    for _ in range(2):  # counter 2 calls a visitor and sends them on to counter 1
        api.issue("A")
        called = api.post("/counters/2/call-next").get_json()
        r = api.post("/counters/2/transfer", {"counter": 1})
        assert r.status_code == 200, r.get_json()
        aimed.append(called["id"])
    for tid in aimed:
        assert api.get(f"/tickets/{tid}").get_json()["status"] == "waiting"

    r = api.post("/counters/1/close")

    assert r.status_code == 200, r.get_json()
    counters = {c["number"]: c for c in api.get("/counters").get_json()["counters"]}
    assert counters[1]["state"] == "closed"
    engine = app.extensions["tabour"].db.engine
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, status, target_counter_id FROM tickets"
                                 " WHERE id IN (:a, :b) ORDER BY id"),
                            {"a": aimed[0], "b": aimed[1]}).all()
        kinds = [e for (e,) in conn.execute(text(
            "SELECT type FROM events ORDER BY seq DESC LIMIT 3"))]
    assert [(r.status, r.target_counter_id) for r in rows] == [("waiting", None)] * 2, rows
    assert sorted(kinds) == ["counter_closed", "ticket_requeued", "ticket_requeued"], kinds
