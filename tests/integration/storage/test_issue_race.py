"""Issuing from many threads at once into one branch: every ticket gets its own number
(no gap, no duplicate, per service), its one ``ticket_issued`` event, and the branch's
event sequence has no hole, on SQLite and PostgreSQL. Issuing takes the service's
number before the branch's sequence lock, and on PostgreSQL writes the ticket and its
event in one statement: this is what must still hold."""
from __future__ import annotations

import threading
from collections import defaultdict

from sqlalchemy import select

from queue_server.db import schema
from queue_server.engine.model import Actor, PriorityClass

THREADS = 12
EACH = 15


def test_twelve_threads_issue_into_one_branch(two_service_app):
    app = two_service_app
    t = app.extensions["tabour"]
    for c in (1, 2):
        t.commands.counter_action(1, c, "open", Actor("user", 1, "admin"))
    barrier = threading.Barrier(THREADS)
    errors: list[str] = []
    issued: list[tuple[int, int, int | None]] = []
    lock = threading.Lock()

    def issuer(k: int) -> None:
        barrier.wait()
        for i in range(EACH):
            try:
                got = t.commands.issue(1, "AB"[(k + i) % 2], PriorityClass.NORMAL, "fr",
                                       "kiosk", Actor("device", 1, "kiosk"))
            except Exception as exc:  # recorded, so the test fails with the reason
                errors.append(repr(exc))
                return
            with lock:
                issued.append((got.ticket.id, got.ticket.number, got.people_ahead))

    threads = [threading.Thread(target=issuer, args=(k,)) for k in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert errors == [], errors
    assert len(issued) == THREADS * EACH
    with t.db.read() as conn:
        tickets = conn.execute(select(schema.tickets.c.id, schema.tickets.c.service_id,
                                      schema.tickets.c.number,
                                      schema.tickets.c.printed_people_ahead)).all()
        events = conn.execute(select(schema.events.c.seq, schema.events.c.type,
                                     schema.events.c.ticket_id, schema.events.c.data)
                              .where(schema.events.c.branch_id == 1)
                              .order_by(schema.events.c.seq)).all()
    assert len(tickets) == THREADS * EACH
    numbers = defaultdict(list)
    for r in tickets:
        numbers[r.service_id].append(r.number)
    for service, got in numbers.items():
        assert sorted(got) == list(range(1, len(got) + 1)), (service, sorted(got))
    seqs = [e.seq for e in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a hole in the event sequence"
    per_ticket = defaultdict(list)
    for e in events:
        if e.type == "ticket_issued":
            per_ticket[e.ticket_id].append(e)
    assert sorted(per_ticket) == sorted(r.id for r in tickets)
    assert all(len(v) == 1 for v in per_ticket.values())
    # the printed figures on the row, in its event and in the command's answer agree
    by_id = {r.id: r for r in tickets}
    aheads = []
    for tid, (e,) in per_ticket.items():
        assert e.data["people_ahead"] == by_id[tid].printed_people_ahead
        aheads.append(e.data["people_ahead"])
    assert sorted(a for _id, _n, a in issued) == sorted(aheads)
