"""A command of an HTTP request that waited in its branch's queue longer than
``QUEUE_DEADLINE_S`` (commands/writer.py) is refused as Busy, with nothing done,
instead of being run for a caller that has given up: the kiosk page sends the same tap
again with its Idempotency-Key, and that one is issued once. Over HTTP: 503,
Retry-After and a message a person can act on. A command whose caller waits however
long it takes (a socket event such as a printer agent's report) is never refused so."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from queue_server.commands import writer as writer_mod
from queue_server.commands.writer import caller_gives_up
from queue_server.db import schema
from queue_server.engine.errors import Busy
from queue_server.engine.model import Actor, PriorityClass
from support.writer_hold import hold_the_branch

KIOSK = Actor("device", 1, "kiosk")


@pytest.fixture
def tabour(two_service_app):
    t = two_service_app.extensions["tabour"]
    for c in (1, 2):
        t.commands.counter_action(1, c, "open", Actor("user", 1, "admin"))
    return t


def tickets(t) -> int:
    with t.db.read() as conn:
        return conn.execute(select(func.count()).select_from(schema.tickets)).scalar()


def behind_a_slow_command(t, work, hold_s: float):
    """Hold the branch's queue for ``hold_s`` with a command, run ``work()`` queued
    behind it; returns what ``work`` returned or raised."""
    go, holder = hold_the_branch(t)
    out = {}

    def queued():
        try:
            out["value"] = work()
        except Exception as e:  # the test looks at it
            out["error"] = e
    th = threading.Thread(target=queued, daemon=True)
    th.start()
    deadline = time.monotonic() + 20
    while not t.commands.writer._lanes[1].pending:
        assert time.monotonic() < deadline, "the command did not queue"
        time.sleep(0.002)
    time.sleep(hold_s)
    go.set()
    for x in (holder, th):
        x.join(30)
    return out


def test_a_command_queued_past_the_deadline_is_refused_with_nothing_done(
        tabour, monkeypatch):
    monkeypatch.setattr(writer_mod, "QUEUE_DEADLINE_S", 0.2)
    before = tickets(tabour)

    def issue():
        with caller_gives_up():  # as an HTTP request's view runs it
            return tabour.commands.issue(1, "A", PriorityClass.NORMAL, "fr", "kiosk", KIOSK,
                                         "tap-1")
    out = behind_a_slow_command(tabour, issue, hold_s=0.5)
    assert isinstance(out.get("error"), Busy), out
    assert tickets(tabour) == before  # nothing issued, no number taken
    assert tabour.commands.writer.stats["expired"] == 1
    # the same tap again, not held up: issued once, with the first number
    again = tabour.commands.issue(1, "A", PriorityClass.NORMAL, "fr", "kiosk", KIOSK, "tap-1")
    assert again.ticket.code.endswith("001") and tickets(tabour) == before + 1
    # queued for less than the deadline: run as before
    def quick():
        with caller_gives_up():
            return tabour.commands.issue(1, "B", PriorityClass.NORMAL, "fr", "kiosk", KIOSK,
                                         "tap-2")
    out = behind_a_slow_command(tabour, quick, hold_s=0.05)
    assert "error" not in out and tickets(tabour) == before + 2


def test_a_caller_that_waits_is_never_refused_so(tabour, monkeypatch):
    """Outside an HTTP request (a socket event, housekeeping), however long it queued."""
    monkeypatch.setattr(writer_mod, "QUEUE_DEADLINE_S", 0.2)
    before = tickets(tabour)
    out = behind_a_slow_command(tabour, lambda: tabour.commands.issue(
        1, "A", PriorityClass.NORMAL, "fr", "kiosk", KIOSK, "tap-3"), hold_s=0.5)
    assert "error" not in out and tickets(tabour) == before + 1
    assert tabour.commands.writer.stats["expired"] == 0


def test_over_http_it_is_a_503_with_retry_after_and_words(tabour, two_service_app,
                                                           monkeypatch):
    monkeypatch.setattr(writer_mod, "QUEUE_DEADLINE_S", 0.2)
    token = tabour.auth.create_device(1, "kiosk", "hall kiosk")
    client = two_service_app.test_client()

    def tap():
        return client.post("/api/v1/tickets", json={"service": "A", "language": "fr"},
                           headers={"Authorization": f"Bearer {token}",
                                    "Idempotency-Key": "tap-http", "Accept-Language": "fr"})
    r = behind_a_slow_command(tabour, tap, hold_s=0.5)["value"]
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    err = r.get_json()["error"]
    assert err["code"] == "server_busy" and err["kind"] == "busy"
    assert err["message"]  # in the kiosk's language (the catalogs have it)
    r = tap()  # the kiosk page sends it again: issued
    assert r.status_code == 201, r.get_data(as_text=True)
