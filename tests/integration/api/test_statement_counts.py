"""The SQL statements one request runs, with 150 tickets waiting: the hot paths
read the branch's projection, not the queue, and write one transaction.

Counted with an SQLAlchemy listener around the request (the coalesced summary
the fan-out sends afterwards is counted too: it reads the projection only).
Before the one-write-path work: 47 for a kiosk tap (plus 8 in the fan-out), 18
for POST /tickets, 20 for call-next."""
from __future__ import annotations

import time

from support.sql_count import compiled_each_time, counting

BEFORE = {"kiosk": 47 + 8, "issue": 18, "call": 20}


def kiosk_api(api):
    code = api.post("/kiosk/pairing-codes", {"kiosk_name": "k"}).get_json()["code"]
    token = api.as_token(None).post("/kiosk/pair", {"code": code}).get_json()["token"]
    return api.as_token(token)


def counted(app, fn):
    engine = app.extensions["tabour"].db.engine
    with counting(engine) as seen:
        r = fn()
        time.sleep(0.1)  # the fan-out's coalesced summary runs in this window
    return r, seen


def test_hot_paths_run_a_few_statements_whatever_the_queue(app, api):
    api.open(1)
    api.open(2)
    kiosk = kiosk_api(api)
    kiosk.post("/kiosk/tickets", {"service": "A", "language": "ar",
                                  "idempotency_key": "warm-up-1"})  # caches, printer row
    for _ in range(150):
        api.issue("A")
    r, tap = counted(app, lambda: kiosk.post("/kiosk/tickets", {
        "service": "A", "language": "ar", "idempotency_key": "tap-000001"}))
    assert r.status_code == 201
    r, issue = counted(app, lambda: api.post("/tickets", {"service": "A", "language": "ar"}))
    assert r.status_code == 201
    r, call = counted(app, lambda: api.post("/counters/1/call-next"))
    assert r.status_code == 200
    counts = {"kiosk": len(tap), "issue": len(issue), "call": len(call)}
    for k, n in counts.items():
        assert n <= BEFORE[k] // 2, (k, n, tap if k == "kiosk" else issue if k == "issue"
                                     else call)
    # nothing on these paths reads the waiting list
    assert not [q for q in tap + issue + call if "FROM tickets" in q and "SELECT" in q], \
        tap + issue + call


def test_issuing_holds_the_branch_lock_through_as_few_statements_as_it_can(app, api, db_url):
    """The branch's sequence lock (UPDATE branches) is held until the commit, and on
    PostgreSQL each statement under it is a round trip every other writer of the branch
    waits through: the service's number is taken before it, and the ticket and its
    event are written after it in one statement (SQLite, with no INSERT inside a WITH
    and no round trips, keeps two)."""
    api.open(1)
    api.issue("A")  # the projection is held: the number is taken before the lock
    r, seen = counted(app, lambda: api.post("/tickets", {"service": "A", "language": "ar"}))
    assert r.status_code == 201, r.get_json()
    writes = [q for q in seen if q.split()[0] in ("UPDATE", "INSERT", "WITH")]
    lock = [i for i, q in enumerate(writes) if q.startswith("UPDATE branches")]
    assert len(lock) == 1, writes
    assert [q.split()[1] for q in writes[:lock[0]]] == ["ticket_sequences"], writes
    after = writes[lock[0] + 1:]
    if db_url.startswith("sqlite"):
        assert [q.split()[:3] for q in after] == [["INSERT", "INTO", "tickets"],
                                                 ["INSERT", "INTO", "events"]], writes
    else:
        assert len(after) == 1 and after[0].startswith("WITH new_ticket AS (INSERT"), writes
    # the event row names the ticket the same statement created, with its printed figures
    ticket = r.get_json()
    events = api.get(f"/tickets/{ticket['id']}/events").get_json()["events"]
    assert [e["type"] for e in events] == ["ticket_issued"], events
    assert events[0]["data"]["people_ahead"] == 1, events


def test_a_counter_step_writes_its_rows_and_its_event_in_one_statement(
        app, api, db_url):
    """Call-next, start and finish: on PostgreSQL the branch's lock (UPDATE branches)
    is taken once, then the ticket, the counter, the sequence moved past the event and
    the event are written in ONE statement (each a WITH); SQLite runs a statement each.
    The announcement's row is written by the announcer, in its own transaction."""
    api.open(1)
    api.issue("A")
    api.issue("A")
    steps = [("call", lambda: api.post("/counters/1/call-next")),
             ("start", lambda: api.post("/counters/1/start")),
             ("finish", lambda: api.post("/counters/1/finish", {"outcome": "served"}))]
    for name, step in steps:
        r, seen = counted(app, step)
        assert r.status_code == 200, (name, r.get_json())
        writes = [q for q in seen if q.split()[0] in ("UPDATE", "INSERT", "WITH")
                  and "announcements" not in q]
        tables = [q.split()[1] if q.startswith(("UPDATE", "INSERT")) else q.split()[:3]
                  for q in writes]
        if db_url.startswith("sqlite"):
            assert tables == ["tickets", "counters", "branches", "INTO"], (name, writes)
        else:
            assert tables == ["branches", ["WITH", "t0", "AS"]], (name, writes)
    # what that one statement wrote: the ticket, the counter, the three events
    ticket = api.get("/tickets/" + str(r.get_json()["id"])).get_json()
    assert ticket["status"] == "done" and ticket["outcome"] == "served", ticket
    events = api.get(f"/tickets/{ticket['id']}/events").get_json()["events"]
    assert [e["type"] for e in events] == ["ticket_issued", "ticket_called", "ticket_started",
                                           "ticket_finished"], events
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4, events
    counter = next(c for c in api.get("/counters").get_json()["counters"] if c["number"] == 1)
    assert counter["state"] == "open" and counter.get("current_ticket") is None, counter


def test_call_next_when_nobody_waits_reads_one_row_and_writes_nothing(app, api):
    """An idle agent pressing "call next" in an empty hall: the projection has nobody
    for the counter, and the branch's event sequence (one row read) says nothing
    happened since: no write transaction, so on PostgreSQL no branch lock and no WAL
    flush (tickets.py, ``_nobody_waits``)."""
    api.open(1)
    assert api.post("/counters/1/call-next").status_code == 204  # the projection is held
    r, seen = counted(app, lambda: api.post("/counters/1/call-next"))
    assert r.status_code == 204, r.get_json()
    statements = [q for q in seen if q.strip() != "BEGIN"]  # SQLite's read snapshot
    assert len(statements) == 1 and statements[0].startswith("SELECT branches.event_seq"), seen
    # someone comes: the next press calls them, through the write path
    ticket = api.issue("A")
    r, seen = counted(app, lambda: api.post("/counters/1/call-next"))
    assert r.status_code == 200 and r.get_json()["id"] == ticket["id"], r.get_json()
    assert any(q.startswith(("UPDATE tickets", "WITH t0 AS (UPDATE tickets")) for q in seen), seen


def test_the_hot_paths_statements_are_compiled_once(app, api):
    """Every statement of a tap, an issue and the steps at a counter has a cache key:
    SQLAlchemy compiles it once, not at every execution (a multi-row VALUES has none:
    the events of a counter step were compiled at every step, ~30 % of a PostgreSQL
    server's CPU while agents served, py-spy)."""
    api.open(1)
    api.open(2)
    kiosk = kiosk_api(api)
    engine = app.extensions["tabour"].db.engine
    with compiled_each_time(engine) as seen:
        for i in range(3):
            assert kiosk.post("/kiosk/tickets", {"service": "A", "language": "ar",
                                                 "idempotency_key": f"tap-{i:06d}"}
                              ).status_code == 201
            api.issue("A")
            api.issue("A")
            assert api.post("/counters/1/call-next").status_code == 200
            assert api.post("/counters/1/start").status_code == 200
            assert api.post("/counters/1/finish", {"outcome": "served"}).status_code == 200
            assert api.post("/counters/2/call-next").status_code == 200
            assert api.post("/counters/2/transfer", {"counter": 1}).status_code == 200
        assert api.post("/counters/1/close").status_code == 200  # tickets sent back with it
        time.sleep(0.1)  # the fan-out's summaries
    assert seen == [], seen
