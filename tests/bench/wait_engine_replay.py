"""Replay a branch day's event log through the ENGINE only (no database) and write
the wait each ticket would have printed, from ``queue_server.engine.forecast``.

The replay interface of ../shared/wait/README.md:

    .venv/bin/python tests/bench/wait_engine_replay.py --config BRANCH.toml \\
        --events EVENTS.csv --out ESTIMATES.csv

Each row is applied with the engine's lifecycle functions. The forecast is the one
of the state after the previous row (made at that row's time, as the server makes
it after each batch of committed events) and the ticket READS it at its own issue
time (``Forecast.new_ticket(..., now=issue time, ahead_delta=...)``).
``--refresh-seconds S`` recomputes at most every S seconds instead (stale
forecasts, exercising ``ahead_delta``); ``--fresh`` forecasts at the issue time.
Output columns: ticket, estimated_wait_minutes (printed), people_ahead, low, high,
minutes (unrounded mean), median.

``--bench`` (alone) measures the cost instead: forecast() on busy states with 50
and 2,000 waiting tickets, and the read path (p50/p99/max in ms).
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import time
import tomllib
from dataclasses import fields, replace
from datetime import datetime

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from queue_server.engine import lifecycle, ordering  # noqa: E402
from queue_server.engine.forecast import (  # noqa: E402
    CounterView, ForecastInput, Learned, forecast,
)
from queue_server.engine.model import Ticket  # noqa: E402
from queue_server.engine.model import (  # noqa: E402
    SYSTEM, Counter, CounterState, Policy, PriorityClass, Service, TicketStatus,
)
from queue_server.engine.numbering import branch_day  # noqa: E402

PRIORITY = {"none": PriorityClass.NORMAL, "normal": PriorityClass.NORMAL, "": PriorityClass.NORMAL,
            "elderly": PriorityClass.ELDERLY, "disabled": PriorityClass.DISABLED,
            "pregnant": PriorityClass.PREGNANT}


def load_branch(path: str):
    with open(path, "rb") as f:
        cfg = tomllib.load(f)
    b = cfg["branch"][0]
    names = {f.name for f in fields(Policy)}
    policy = Policy(**{k: v for k, v in b.get("policy", {}).items() if k in names})
    services, priors = {}, {}
    for i, s in enumerate(b.get("service", []), start=1):
        services[s["prefix"]] = Service(i, s["prefix"], dict(s.get("names", {})),
                                        s.get("target_wait_minutes", 20))
        if s.get("prior_service_minutes"):
            priors[i] = (s["prior_service_minutes"], s.get("prior_service_sd_minutes"))
    counters = {}
    for i, c in enumerate(b.get("counter", []), start=1):
        ranks = {services[p].id: r for r, p in enumerate(c["services"])}
        counters[int(c["number"])] = Counter(i, int(c["number"]), c.get("name", ""), ranks)
    return b.get("timezone", "UTC"), policy, services, counters, priors


class Replay:
    def __init__(self, tz, policy, services, counters, priors, replications=None,
                 pause_prior=30.0, half_life=None):
        self.replications, self.pause_prior = replications, pause_prior
        self.half_life = half_life
        self.tz, self.policy, self.services, self.priors = tz, policy, services, priors
        self.counters = counters            # number -> Counter
        self.since = {}                     # number -> datetime
        self.paused_since = {}
        self.tickets = {}                   # csv id -> Ticket
        self.numbers = {}
        self.next_id = 1
        self.learned = None
        self.last_at = None
        self.fc = None
        self.fc_at = None
        self.forecast_ms = []

    def day(self, at):
        return branch_day(at, self.tz, self.policy.rollover_hour)

    def waiting(self):
        return [t for t in self.tickets.values() if t.status is TicketStatus.WAITING]

    def by_engine_id(self):
        return {t.id: t for t in self.tickets.values()}

    def make_input(self, now):
        held = self.by_engine_id()
        views = tuple(CounterView(c, self.since.get(n, now),
                                  held.get(c.current_ticket_id) if c.current_ticket_id else None)
                      for n, c in sorted(self.counters.items()))
        return ForecastInput(now=now, policy=self.policy, today=self.day(now),
                             services=tuple(s.id for s in self.services.values()),
                             counters=views, waiting=tuple(self.waiting()),
                             learned=self.learned)

    def compute(self, now):
        t = time.perf_counter()
        self.fc = forecast(self.make_input(now), replications=self.replications)
        self.forecast_ms.append((time.perf_counter() - t) * 1000)
        self.fc_at = now

    def estimate(self, row, at, mode, refresh_s):
        svc = self.services[row["service"]]
        prio = PRIORITY[row["priority"]]
        day = self.day(at)
        new = lifecycle.issue(svc, 0, day, prio, "kiosk", "fr", at, SYSTEM).ticket
        counters = list(self.counters.values())
        ahead = ordering.people_ahead(new, self.waiting(), counters, self.policy, at, day)
        if mode == "fresh" or self.fc is None:
            self.compute(at)
        elif mode == "lazy":
            if self.fc_at != self.last_at:
                self.compute(self.last_at)
        elif (at - self.fc_at).total_seconds() >= refresh_s:
            self.compute(self.last_at)
        base = self.fc.ahead(svc.id, prio)
        delta = 0 if base is None else ahead - base
        est = self.fc.new_ticket(svc.id, prio, now=at, ahead_delta=delta)
        return est, ahead

    def apply(self, row, at):
        kind = row["kind"]
        if self.learned is None:
            self.learned = Learned.start(self.policy, opened_at=at, priors=self.priors,
                                         pause_prior_minutes=self.pause_prior,
                                         **({"arrival_half_life_minutes": self.half_life}
                                            if self.half_life else {}))
        today = self.day(at)
        if kind == "ticket_issued":
            svc = self.services[row["service"]]
            n = self.numbers[svc.id] = self.numbers.get(svc.id, 0) + 1
            t = lifecycle.issue(svc, n, today, PRIORITY[row["priority"]], "kiosk", "fr", at,
                                SYSTEM).ticket
            t = replace(t, id=self.next_id)
            self.next_id += 1
            self.tickets[row["ticket"]] = t
            self.learned = self.learned.issued(t)
        elif kind in ("ticket_called", "ticket_started", "ticket_finished"):
            num = int(row["counter"])
            c, t = self.counters[num], self.tickets[row["ticket"]]
            if kind == "ticket_called":
                ch = lifecycle.call(c, t, self.policy, at, SYSTEM, today)
                self.since[num] = at
            elif kind == "ticket_started":
                ch = lifecycle.start(c, t, at, SYSTEM)
            else:
                ch = lifecycle.finish(c, t, "served", None, at, SYSTEM)
                self.learned = self.learned.finished(ch.ticket)
                self.since[num] = at
            self.tickets[row["ticket"]] = ch.ticket
            self.counters[num] = ch.counter
        elif kind.startswith("counter_"):
            num = int(row["counter"])
            action = {"counter_opened": "open", "counter_resumed": "open",
                      "counter_paused": "pause", "counter_closed": "close"}[kind]
            c = self.counters[num]
            if action == "open" and c.state is CounterState.PAUSED and num in self.paused_since:
                self.learned = self.learned.pause_ended(self.paused_since.pop(num), at)
            self.counters[num] = lifecycle.counter_action(c, action, at, SYSTEM).counter
            self.since[num] = at
            if action == "pause":
                self.paused_since[num] = at
        else:
            raise SystemExit(f"unsupported event kind {kind}")
        self.last_at = at


def bench_state(rng, n_waiting, now):
    """A busy branch like the simulated one: 6 counters (two multi-skilled), 3
    services, every counter holding a ticket, n_waiting tickets, a learned morning."""
    from datetime import timedelta
    policy = Policy(starvation_rule="both")
    skills = {1: [1], 2: [1], 3: [1, 2], 4: [2], 5: [2, 3], 6: [3]}
    mean = {1: 5.0, 2: 10.0, 3: 15.0}
    lr = Learned.start(policy, opened_at=now - timedelta(hours=3))
    st = lr.service_times
    for sid, m in mean.items():
        for _ in range(int(150 / m)):
            st = st.observe(sid, rng.lognormvariate(0, 0.55) * m * 60 * 0.86)
    lr = replace(lr, service_times=st)
    tid = 1

    def tk(sid, ago, status=TicketStatus.WAITING):
        nonlocal tid
        at = now - timedelta(minutes=ago)
        prio = PriorityClass.ELDERLY if rng.random() < 0.1 else PriorityClass.NORMAL
        t = Ticket(id=tid, service_id=sid, number=tid, code=f"X{tid}", day=now.date().isoformat(),
                   status=status, priority=prio, channel="kiosk", language="fr",
                   issued_at=at, queued_at=at)
        tid += 1
        return t
    for k in range(150):
        lr = lr.issued(tk(rng.choice([1, 1, 1, 2, 2, 3]), 180 - k * 1.2))
    views = []
    for n, sk in skills.items():
        h = tk(sk[0], rng.uniform(0, 10), TicketStatus.SERVING)
        h = replace(h, called_at=h.issued_at, started_at=h.issued_at, counter_id=n)
        c = Counter(n, n, f"G{n}", {s: r for r, s in enumerate(sk)}, CounterState.SERVING,
                    current_ticket_id=h.id)
        views.append(CounterView(c, h.called_at, h))
    waiting = tuple(tk(rng.choice([1, 1, 1, 2, 2, 3]), rng.uniform(0, 60))
                    for _ in range(n_waiting))
    return ForecastInput(now=now, policy=policy, today=now.date().isoformat(),
                         services=(1, 2, 3), counters=tuple(views), waiting=waiting,
                         learned=lr)


def bench(states=200):
    """Cost of forecast() (50 and 2,000 waiting) and of the read path, in ms."""
    import random
    from datetime import timedelta, timezone
    now = datetime(2026, 1, 4, 10, 0, tzinfo=timezone.utc)
    rng = random.Random(1)

    def pct(xs, q):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(q * (len(xs) - 1) + 0.5))]
    out = {}
    for n, count in ((50, states), (2000, max(10, states // 10))):
        inputs = [bench_state(rng, n, now) for _ in range(count)]
        ms, fcs = [], []
        for inp in inputs:
            t = time.perf_counter()
            fcs.append(forecast(inp))
            ms.append((time.perf_counter() - t) * 1000)
        out[f"forecast_{n}_waiting_ms"] = dict(p50=pct(ms, 0.5), p99=pct(ms, 0.99), max=max(ms),
                                                replications=fcs[0].replications)
        if n == 50:
            reads = []
            for f in fcs:
                for k in range(50):
                    at = now + timedelta(seconds=rng.uniform(0, 180))
                    t = time.perf_counter()
                    f.new_ticket(rng.choice([1, 2, 3]), rng.choice(list(PriorityClass)),
                                 now=at, ahead_delta=rng.choice([0, 0, 0, 1, 2, 5]))
                    reads.append((time.perf_counter() - t) * 1000)
            out["read_ms"] = dict(p50=pct(reads, 0.5), p99=pct(reads, 0.99), max=max(reads))
    for k, v in out.items():
        print(k, " ".join(f"{a}={b:.3f}" if isinstance(b, float) else f"{a}={b}"
                          for a, b in v.items()))


def main(argv=None):
    if argv is None and "--bench" in sys.argv:
        return bench()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--events", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--fresh", action="store_true", help="forecast at each issue time")
    ap.add_argument("--refresh-seconds", type=float, default=None,
                    help="recompute at most every S seconds (reads use ahead_delta)")
    ap.add_argument("--timing", action="store_true", help="print forecast times to stderr")
    ap.add_argument("--replications", type=int, default=None)
    ap.add_argument("--arrival-half-life", type=float, default=None, help="minutes")
    ap.add_argument("--pause-prior", type=float, default=30.0,
                    help="prior break length in minutes; 0: a paused counter never returns")
    args = ap.parse_args(argv)
    mode = "fresh" if args.fresh else ("stale" if args.refresh_seconds else "lazy")
    rp = Replay(*load_branch(args.config), replications=args.replications,
                pause_prior=args.pause_prior or None, half_life=args.arrival_half_life)
    out_rows = []
    with open(args.events, newline="") as f:
        for row in csv.DictReader(f):
            at = datetime.fromisoformat(row["at"])
            if row["kind"] == "ticket_issued" and rp.learned is not None:
                est, ahead = rp.estimate(row, at, mode, args.refresh_seconds or 0)
                out_rows.append(dict(ticket=row["ticket"], estimated_wait_minutes=est.printed
                                     if est.printed is not None else "",
                                     people_ahead=ahead,
                                     low=f"{est.low:.2f}" if est.known else "",
                                     high=f"{est.high:.2f}" if est.known else "",
                                     minutes=f"{est.minutes:.3f}" if est.known else "",
                                     median=f"{est.median:.3f}" if est.known else ""))
            elif row["kind"] == "ticket_issued":
                out_rows.append(dict(ticket=row["ticket"], estimated_wait_minutes=0,
                                     people_ahead=0, low="", high="", minutes="", median=""))
            rp.apply(row, at)
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["ticket", "estimated_wait_minutes", "people_ahead",
                                          "low", "high", "minutes", "median"])
        w.writeheader()
        w.writerows(out_rows)
    if args.timing and rp.forecast_ms:
        ms = sorted(rp.forecast_ms)
        print(f"forecasts={len(ms)} p50={ms[len(ms) // 2]:.2f} ms "
              f"p99={ms[int(0.99 * (len(ms) - 1))]:.2f} ms max={ms[-1]:.2f} ms",
              file=sys.stderr)


if __name__ == "__main__":
    main()
