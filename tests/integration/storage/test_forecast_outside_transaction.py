"""The first ticket of a branch in a process is estimated from a forecast made
before its transaction (Estimator.warm), not by a simulation run inside it: that
one held the branch's row lock, and under gevent the whole event loop, for as
long as the simulation took (seen in bench-national at 150 branches)."""
from __future__ import annotations

import threading
from contextlib import contextmanager


def test_the_first_ticket_of_a_branch_is_forecast_before_its_transaction(app, monkeypatch):
    from queue_server.engine.model import Actor, PriorityClass
    from queue_server.readmodel import estimates
    t = app.extensions["tabour"]
    est = t.estimator
    assert not est.sync and 1 not in est._forecasts
    me = threading.get_ident()  # background refreshes of other threads do not count
    depth = [0]
    real_write = t.db.write

    @contextmanager
    def write(**kw):
        depth[0] += 1
        try:
            with real_write(**kw) as conn:
                yield conn
        finally:
            depth[0] -= 1
    t.db.write = write  # the writer's transactions, counted
    made: list[bool] = []  # per forecast made in this thread: inside a transaction?

    def recording(fn):
        def wrapped(inp):
            if threading.get_ident() == me:
                made.append(depth[0] > 0)
            return fn(inp)
        return wrapped
    est.compute = recording(est.compute)  # the estimator's own (helper process or not)
    monkeypatch.setattr(estimates, "forecast", recording(estimates.forecast))  # _of's
    issued = t.commands.issue(1, "A", PriorityClass.NORMAL, "fr", "counter",
                              Actor("user", 1, "test"))
    assert issued.ticket.id is not None
    assert made, "no forecast was made for the branch's first ticket"
    assert not any(made), "a forecast was simulated inside the issuing transaction"
