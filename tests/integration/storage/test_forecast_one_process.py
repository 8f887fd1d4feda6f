"""Several processes (issue 13): the process that committed a batch forecasts the
branch and publishes the forecast; the others keep it and read it when they need an
estimate (readmodel/estimates.py). Measured in bench-national before: every process
simulated every branch after every batch of every process.

Two write paths on one database stand for two processes; what Redis would carry
(batches, forecasts) is handed over in the test, in order."""
from __future__ import annotations

import json

from queue_server.engine.forecast import Forecast
from queue_server.engine.model import Actor, PriorityClass, TicketStatus
from queue_server.readmodel import wire

ADMIN = Actor("user", 1, "admin")


class Deployment:
    """Processes ``a`` and ``b`` joined by an in-memory message queue."""

    def __init__(self, url, clock):
        from queue_server.app import write_path
        from queue_server.db.database import Database
        self.fallbacks: list = []  # fallback checks, run when the test says
        self.sides = {}
        self.mute: set[str] = set()  # sides whose forecasts never leave (a lost message)
        for name in ("a", "b"):
            db = Database(url)
            commands, _ = write_path(db, clock, spawn=self.spawn)
            self.sides[name] = commands
        for name, other in (("a", "b"), ("b", "a")):
            me, them = self.sides[name], self.sides[other]
            me.writer.projections.transport = _Pipe(them.writer.projections.received)
            me.estimator.publish = self._publisher(name, them.estimator.received)

    def _publisher(self, name, deliver):
        def publish(raw):
            if name not in self.mute:
                deliver(raw)
        return publish

    def spawn(self, fn, *args):
        if getattr(fn, "__name__", "") == "_fallback_later":
            self.fallbacks.append((fn, args))
        else:
            fn(*args)  # forecasts at once, in order

    def run_fallbacks(self):
        todo, self.fallbacks = self.fallbacks, []
        for fn, args in todo:
            fn.__self__.FALLBACK_S = 0.0
            fn(*args)

    def close(self):
        for c in self.sides.values():
            c.writer.db.dispose()


class _Pipe:
    def __init__(self, deliver):
        self.deliver = deliver

    def publish(self, raw):
        self.deliver(raw)


def _deployment(app, clock):
    url = str(app.extensions["tabour"].db.engine.url.render_as_string(hide_password=False))
    d = Deployment(url, clock)
    a, b = d.sides["a"], d.sides["b"]
    for c in (1, 2):
        a.counter_action(1, c, "open", ADMIN)
    b.writer.projections.get(1)  # b holds the branch (its clients watch it)
    return d, a, b


def _printed(fc: Forecast, ticket, ahead, now) -> int | None:
    """What Estimator.estimate prints for a new ticket from forecast ``fc``."""
    base = fc.ahead(ticket.service_id, ticket.priority)
    delta = 0 if base is None else ahead - base
    return fc.new_ticket(ticket.service_id, ticket.priority, now=now,
                         ahead_delta=delta).printed


def test_a_ticket_issued_through_another_process_prints_the_published_forecast(app, clock):
    d, a, b = _deployment(app, clock)
    try:
        for i in range(6):
            a.issue(1, "AB"[i % 2], PriorityClass.NORMAL, "fr", "counter", ADMIN)
            clock.advance(seconds=20)
        a_made, b_made = a.estimator.computed, b.estimator.computed
        assert a_made >= 1 and b_made == 0, "b simulated a branch a had forecast"
        assert b.estimator.stats["received"] == a.estimator.stats["published"] >= a_made
        fc_a = a.estimator.forecast_of(1)
        seq_a = a.estimator._forecasts[1][0]
        assert b.estimator._forecasts[1][0] == seq_a
        issued = b.issue(1, "A", PriorityClass.NORMAL, "fr", "counter", ADMIN)
        # b read a's forecast (decoded once), simulated only after its own commit
        assert b.estimator.stats["decoded"] >= 1
        assert b.estimator.computed == 1
        assert issued.minutes is not None
        assert issued.minutes == _printed(fc_a, issued.ticket, issued.people_ahead, clock())
        # ... and a, which did not commit that batch, did not simulate it: b's came
        assert a.estimator.computed == a_made
        assert a.estimator._forecasts[1][0] == b.estimator._forecasts[1][0] > seq_a
        d.run_fallbacks()  # every remote batch's forecast arrived: none is made again
        assert a.estimator.stats["fallbacks"] == b.estimator.stats["fallbacks"] == 0
        assert a.estimator.computed == a_made and b.estimator.computed == 1
    finally:
        d.close()


def test_a_remote_batch_whose_forecast_never_comes_is_forecast_here(app, clock):
    d, a, b = _deployment(app, clock)
    try:
        a.issue(1, "A", PriorityClass.NORMAL, "fr", "counter", ADMIN)
        assert b.estimator.forecast_of(1) is not None
        d.run_fallbacks()  # its forecast came: nothing made here
        assert b.estimator.stats["fallbacks"] == 0 and b.estimator.computed == 0
        d.mute.add("a")  # a's next forecast is lost (a died, the message was dropped)
        clock.advance(seconds=30)
        a.issue(1, "A", PriorityClass.NORMAL, "fr", "counter", ADMIN)
        before = b.estimator.computed
        assert d.fallbacks, "no fallback check was scheduled"
        d.run_fallbacks()
        assert b.estimator.stats["fallbacks"] == 1 and b.estimator.computed == before + 1
        seq = b.writer.projections.get(1).seq
        assert b.estimator._forecasts[1][0] == seq
    finally:
        d.close()


def test_a_forecast_reads_back_from_its_wire_form_exactly(app, clock):
    d, a, _b = _deployment(app, clock)
    try:
        for i in range(8):
            a.issue(1, "AB"[i % 2], PriorityClass.ELDERLY if i == 3 else PriorityClass.NORMAL,
                    "fr", "counter", ADMIN)
        fc = a.estimator.forecast_of(1)
        back = Forecast.from_wire(json.loads(json.dumps(fc.to_wire())))
        p = a.writer.projections.get(1)
        now = clock()
        for t in p.index.tickets.values():
            assert t.status is TicketStatus.WAITING
            for later in (0, 7, 95):
                at = now + __import__("datetime").timedelta(minutes=later)
                assert back.waiting(t.id, at) == fc.waiting(t.id, at)
        for svc in p.services:
            for prio in (PriorityClass.NORMAL, PriorityClass.ELDERLY):
                assert back.ahead(svc.id, prio) == fc.ahead(svc.id, prio)
                for delta in (0, 1, 5):
                    assert back.new_ticket(svc.id, prio, now, delta) == \
                        fc.new_ticket(svc.id, prio, now, delta)
        assert wire  # (the batches travel as readmodel.wire's JSON)
    finally:
        d.close()


def test_a_forecast_already_made_elsewhere_of_the_same_state_is_not_made_again(app, clock):
    """Both processes committed batches of the branch a moment apart: the one whose
    forecast comes second finds the state forecast already and makes nothing."""
    d, a, b = _deployment(app, clock)
    try:
        a.issue(1, "A", PriorityClass.NORMAL, "fr", "counter", ADMIN)
        seq = a.writer.projections.get(1).seq
        assert b.writer.projections.get(1).seq == seq == b.estimator._forecasts[1][0]
        before = b.estimator.computed
        b.estimator._pending.add(1)
        b.estimator._refresh_later(1)  # b's own refresh, scheduled by a batch of b's
        assert b.estimator.computed == before and b.estimator.stats["covered"] == 1
        assert 1 not in b.estimator._pending
    finally:
        d.close()


def test_the_helper_process_answers_the_forecast_and_with_several_processes_its_json(
        app, clock):
    """readmodel/forecast_worker.py: the server unpickles the helper's forecast (cheap)
    and, with a message queue, publishes the JSON the helper wrote, which reads back
    into a forecast answering the same."""
    from queue_server.readmodel.estimates import forecast_input
    from queue_server.readmodel.forecast_worker import ForecastProcess
    from queue_server.engine.forecast import forecast
    d, a, _b = _deployment(app, clock)
    helpers = []
    try:
        for i in range(5):
            a.issue(1, "AB"[i % 2], PriorityClass.NORMAL, "fr", "counter", ADMIN)
        p = a.writer.projections.get(1)
        inp = forecast_input(p, clock())
        here = forecast(inp)
        for wire in (False, True):
            helper = ForecastProcess(wire=wire).start()
            helpers.append(helper)
            fc = helper(inp)
            assert (getattr(fc, "wire", None) is not None) == wire
            got = [fc] + ([Forecast.from_wire(json.loads(fc.wire))] if wire else [])
            for f in got:
                for t in p.index.tickets.values():
                    assert f.waiting(t.id, clock()) == here.waiting(t.id, clock())
                for svc in p.services:
                    assert f.new_ticket(svc.id, PriorityClass.NORMAL, clock(), 2) == \
                        here.new_ticket(svc.id, PriorityClass.NORMAL, clock(), 2)
    finally:
        for h in helpers:
            h.stop()
        d.close()


def test_in_quiet_hours_the_process_that_made_a_branchs_forecast_keeps_it_fresh(app, clock):
    """refresh_all (every 15 s in each process): a quiet branch is forecast again by
    the process that made its latest forecast, not by every process; the others do
    not even decode what they received to learn its age. When that process is gone
    (its forecasts stop coming), another takes over once FALLBACK_S more passed."""
    d, a, b = _deployment(app, clock)
    try:
        a.issue(1, "A", PriorityClass.NORMAL, "fr", "counter", ADMIN)
        assert isinstance(b.estimator._forecasts[1][1], bytes)  # received, not read
        made_a, made_b, decoded = a.estimator.computed, b.estimator.computed, \
            b.estimator.stats["decoded"]
        clock.advance(seconds=a.estimator.REFRESH_S + 1)  # quiet: nothing happened
        b.estimator.refresh_all()
        assert b.estimator.computed == made_b and b.estimator.stats["decoded"] == decoded
        a.estimator.refresh_all()
        assert a.estimator.computed == made_a + 1  # a's: a refreshes and publishes it
        assert b.estimator._forecasts[1][0] == a.estimator._forecasts[1][0]
        b.estimator.refresh_all()
        assert b.estimator.computed == made_b  # it just came
        # a dies: its forecasts stop; b waits FALLBACK_S beyond REFRESH_S, then makes one
        d.mute.add("a")
        clock.advance(seconds=a.estimator.REFRESH_S + 1)
        a.estimator.refresh_all()
        b.estimator.refresh_all()
        assert b.estimator.computed == made_b
        clock.advance(seconds=b.estimator.FALLBACK_S)
        b.estimator.refresh_all()
        assert b.estimator.computed == made_b + 1
        # from now on the branch's forecast is b's to keep fresh (a's no longer come)
        clock.advance(seconds=b.estimator.REFRESH_S + 1)
        b.estimator.refresh_all()
        assert b.estimator.computed == made_b + 2
    finally:
        d.close()
