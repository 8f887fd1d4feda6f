"""Group commit (commands/writer.py): the commands of a branch that queue behind the
one running share the next transaction, one commit for all (each in its savepoint on
SQLite; on PostgreSQL none: a failing command rolls the group back, and it runs again
without it).

Each test holds the branch's queue with a command of its own, lets real issue
commands queue behind it, then releases it: the queued ones run as one group. What
must hold, on SQLite and PostgreSQL: each command decides on the ones before it in
the group (people ahead), a refused command leaves nothing behind and the others
commit, a failed commit fails every command of the group and the read model is not
left ahead of the database, and (PostgreSQL) a grouped command never waits for a row
lock another process holds while the group holds the branch's. Group commit is on
by default on both (``TABOUR_GROUP_COMMIT``); these tests turn it on in any case.
The default itself: ``test_group_commit_is_on_by_default``."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, select, text

from queue_server.db import schema
from queue_server.engine.errors import NotAllowed
from queue_server.engine.model import Actor, PriorityClass

from support.app import make_app
from support.writer_hold import hold_the_branch

KIOSK = Actor("device", 1, "kiosk")


@pytest.fixture
def tabour(two_service_app):
    t = two_service_app.extensions["tabour"]
    t.commands.writer.groups = True  # the default, whatever TABOUR_GROUP_COMMIT says here
    for c in (1, 2):
        t.commands.counter_action(1, c, "open", Actor("user", 1, "admin"))
    return t


def issue_behind(t, requests: list[tuple[str, str]]) -> list:
    """Queue one issue per (service, language) behind a held command, release it, and
    return each one's ``Issued`` or exception, in queue order."""
    writer = t.commands.writer
    go, holder = hold_the_branch(t)
    out: list = [None] * len(requests)

    def issuer(i, service, language):
        try:
            out[i] = t.commands.issue(1, service, PriorityClass.NORMAL, language, "kiosk", KIOSK)
        except Exception as e:  # the test looks at it
            out[i] = e

    threads = []
    for i, (service, language) in enumerate(requests):
        th = threading.Thread(target=issuer, args=(i, service, language), daemon=True)
        th.start()
        threads.append(th)
        deadline = time.monotonic() + 20  # queue them in this order
        while len(writer._lanes[1].pending) < i + 1:
            assert time.monotonic() < deadline, "a command did not queue"
            time.sleep(0.002)
    go.set()
    for th in [holder, *threads]:
        th.join(30)
    return out


def rows(t):
    with t.db.read() as conn:
        tickets = conn.execute(select(schema.tickets).order_by(schema.tickets.c.id)).all()
        seqs = conn.execute(select(schema.events.c.seq).where(schema.events.c.branch_id == 1)
                            .order_by(schema.events.c.seq)).scalars().all()
    return tickets, seqs


def branch_row(t):
    with t.db.read() as conn:
        return dict(conn.execute(select(schema.branches).where(schema.branches.c.id == 1))
                    .one()._mapping)


def assert_read_model_is_the_database(t):
    p = t.projections.get(1)
    tickets, seqs = rows(t)
    assert p.seq == seqs[-1]
    waiting = sorted(r.id for r in tickets if r.status == "waiting")
    assert sorted(p.index.tickets) == waiting


def test_queued_commands_share_one_commit_and_see_each_other(tabour):
    t = tabour
    before = dict(t.commands.writer.stats)
    branch = branch_row(t)
    out = issue_behind(t, [("A", "fr")] * 6)
    stats = t.commands.writer.stats
    assert stats["groups"] == before.get("groups", 0) + 1
    assert stats["grouped"] == before.get("grouped", 0) + 6
    # each decided on the ones before it in the same transaction
    assert [o.people_ahead for o in out] == [0, 1, 2, 3, 4, 5]
    assert [o.ticket.number for o in out] == [1, 2, 3, 4, 5, 6]
    tickets, seqs = rows(t)
    assert len(tickets) == 6
    assert seqs == list(range(1, len(seqs) + 1))  # no hole in the branch's sequence
    assert_read_model_is_the_database(t)
    # the sequence moved with the tickets' statements; nothing else of the branch did
    assert branch_row(t) == {**branch, "event_seq": seqs[-1]}


def test_a_refused_command_leaves_nothing_and_the_group_commits(tabour):
    t = tabour
    redone = t.commands.writer.stats["redone"]
    out = issue_behind(t, [("A", "fr"), ("A", "de"), ("A", "ar"), ("B", "xx"), ("A", "en")])
    assert isinstance(out[1], NotAllowed) and isinstance(out[3], NotAllowed)
    # SQLite: each rolled back its savepoint; PostgreSQL (no savepoints): each refusal
    # rolled the group back, and it ran again without the refused one
    assert t.commands.writer.stats["redone"] - redone == (0 if t.db.is_sqlite else 2)
    ok = [o for o in out if not isinstance(o, Exception)]
    # the refused ones took a number before they were refused: given back with their
    # savepoint, so the numbers have no gap
    assert [o.ticket.number for o in ok] == [1, 2, 3]
    assert [o.people_ahead for o in ok] == [0, 1, 2]
    tickets, seqs = rows(t)
    assert [r.id for r in tickets] == [o.ticket.id for o in ok]
    assert seqs == list(range(1, len(seqs) + 1))
    assert_read_model_is_the_database(t)


def test_a_failed_commit_fails_the_whole_group_and_the_read_model_follows(tabour):
    t = tabour
    writer = t.commands.writer
    groups = writer.stats["groups"]
    fired = []

    def fail_the_group_commit(conn):
        if writer.stats["groups"] > groups and not fired:
            fired.append(1)
            raise OSError("disk full")

    event.listen(t.db.engine, "commit", fail_the_group_commit)
    try:
        out = issue_behind(t, [("A", "fr")] * 4)
    finally:
        event.remove(t.db.engine, "commit", fail_the_group_commit)
    assert fired
    assert all(isinstance(o, OSError) for o in out), out
    tickets, _seqs = rows(t)
    assert tickets == []
    # the projection had the group's tickets before the commit: it is read again
    assert_read_model_is_the_database(t)
    again = t.commands.issue(1, "A", PriorityClass.NORMAL, "fr", "kiosk", KIOSK)
    assert (again.ticket.number, again.people_ahead) == (1, 0)
    assert_read_model_is_the_database(t)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_after_the_first_a_grouped_command_is_two_statements_no_savepoint(tabour):
    """PostgreSQL: the group's first command takes the branch's lock; each one after it
    takes its service's number and writes its ticket, its event and the sequence in
    one more statement: no SAVEPOINT, no RELEASE, no second lock statement."""
    from support.sql_count import counting
    t = tabour
    # the day's first A ticket creates the service's number row (a savepoint of its own)
    t.commands.issue(1, "A", PriorityClass.NORMAL, "fr", "kiosk", KIOSK)
    with counting(t.db.engine) as seen:
        out = issue_behind(t, [("A", "fr")] * 4)
    assert [o.people_ahead for o in out] == [1, 2, 3, 4]
    number, lock = "UPDATE ticket_sequences", "UPDATE branches"
    ticket, ticket_and_sequence = "WITH new_ticket AS", "WITH bump AS (UPDATE branches"
    ran = [next((k for k in (number, lock, ticket, ticket_and_sequence) if q.startswith(k)), q)
           for q in seen]
    timeout = "SET LOCAL lock_timeout"  # once a group: below
    ran = [timeout if q.startswith(timeout) else q for q in ran]
    assert ran == [number, lock, ticket, timeout] + [number, ticket_and_sequence] * 3, seen


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_group_whose_read_model_is_off_the_sequence_runs_again(tabour, monkeypatch):
    """After the group's first command the next ones take their event numbers from the
    read model, not from a statement: the statement that moves the sequence checks it
    lands where the read model said. A read model one ahead (a bug, simulated) is
    caught: the group rolls back and runs again whole, in order, on a read model read
    afresh, and the sequence has no hole."""
    t = tabour
    projections = t.commands.writer.projections
    real = projections.apply_local
    skewed = []

    def apply_local_one_ahead(batch):
        real(batch)
        if not skewed and batch.events:
            skewed.append(1)
            projections.held(1).seq += 1

    monkeypatch.setattr(projections, "apply_local", apply_local_one_ahead)
    redone = t.commands.writer.stats["redone"]
    out = issue_behind(t, [("A", "fr")] * 3)
    assert skewed
    assert t.commands.writer.stats["redone"] == redone + 1
    assert [o.ticket.number for o in out] == [1, 2, 3]
    assert [o.people_ahead for o in out] == [0, 1, 2]
    _tickets, seqs = rows(t)
    assert seqs == list(range(1, len(seqs) + 1))
    assert_read_model_is_the_database(t)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_grouped_command_does_not_wait_for_a_lock_under_the_branch_lock(tabour):
    """Another process holds service B's number row (it issues a B ticket and waits for
    the branch's lock, which our group holds): the grouped B command gives up its wait
    at once and runs alone after the group, instead of the two waiting for each other
    until PostgreSQL's deadlock check."""
    t = tabour
    t.commands.issue(1, "B", PriorityClass.NORMAL, "fr", "kiosk", KIOSK)  # the day's B row
    other = t.db.engine.connect()
    tx = other.begin()
    other.execute(text("UPDATE ticket_sequences SET last = last WHERE service_id = "
                       "(SELECT id FROM services WHERE prefix = 'B')"))
    threading.Timer(1.0, tx.rollback).start()  # the other process finishes a second later
    try:
        bounced = t.commands.writer.stats["bounced"]
        t0 = time.monotonic()
        out = issue_behind(t, [("A", "fr"), ("B", "fr"), ("A", "fr")])
    finally:
        time.sleep(1.1)
        other.close()
    assert t.commands.writer.stats["bounced"] == bounced + 1
    assert [o.ticket.number for o in out] == [1, 2, 2]
    assert [o.people_ahead for o in out][0::2] == [0, 1]  # the A ones, in their group
    assert time.monotonic() - t0 < 5
    assert_read_model_is_the_database(t)


def test_group_commit_is_on_by_default(db_url, tmp_path, monkeypatch):
    from queue_server.settings import Settings
    settings = Settings(database_url=db_url, var_dir=tmp_path)
    assert settings.group_commit == "auto"
    monkeypatch.setenv("TABOUR_GROUP_COMMIT", "maybe")
    with pytest.raises(ValueError, match="auto, on or off"):
        Settings.from_env()
    from queue_server.clock import utcnow
    app = make_app(db_url, utcnow)
    try:
        assert app.extensions["tabour"].commands.writer.groups is True
    finally:
        app.extensions["tabour"].db.dispose()
