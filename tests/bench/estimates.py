"""The wait estimates' figures:

- ``estimate_ms``: what reading the forecast costs the issue path (the estimate of
  a new ticket at its issue time, from the branch's last forecast), 2,000 samples;
- ``forecast_refresh_ms``: one forecast of a busy branch with 50 waiting (6
  counters, every one holding a ticket, a learned morning), 200 samples, wall clock;
  ``forecast_refresh_cpu_ms`` the same calls' CPU time (what other load on the
  machine changes least);
- the scorer (../shared/wait/score.py) on a few public days through ``run.py
  replay``: MAE, its ratio to SIM, bias, within ±5 minutes.
"""
from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.stats import summary

ROOT = Path(__file__).resolve().parents[2]
SCORER = ROOT.parent / "shared" / "wait" / "score.py"


def _branch(waiting: int):
    """A projection of a busy branch, built through the real commands."""
    from queue_server.app import write_path
    from queue_server.db.database import Database
    from queue_server.db.migrate import upgrade
    from queue_server.engine.model import Actor, PriorityClass
    from queue_server.seed import load_config, seed
    from support.clock import FakeClock
    d = tempfile.mkdtemp(prefix="bench-est-")
    db = Database(f"sqlite:///{d}/b.sqlite", durable=False)
    upgrade(db.engine)
    seed(db, load_config(ROOT / "config" / "branches.toml"))
    clock = FakeClock(datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc))
    commands, _ = write_path(db, clock, sync_estimates=True)
    who = Actor("user", 1, "bench")
    rng = random.Random(7)
    for n in range(1, 7):
        commands.counter_action(1, n, "open", who)
    # a learned morning: visits of each service
    for i in range(60):
        t = commands.issue(1, "ABCDE"[i % 5], PriorityClass.NORMAL, "fr", "api", who).ticket
        c = next(n for n in range(1, 7) if commands.writer.projections.get(1)
                 .counter_by_number(n).state.value == "open"
                 and commands.writer.projections.get(1).counter_by_number(n).serves(t.service_id))
        commands.call(1, c, t.id, who)
        commands.start(1, c, who, t.id)
        clock.advance(seconds=rng.uniform(120, 900))
        commands.finish(1, c, who, "served", None, t.id)
    for i in range(waiting):
        clock.advance(seconds=20)
        commands.issue(1, "ABCDE"[i % 5], PriorityClass.ELDERLY if i % 10 == 0 else
                       PriorityClass.NORMAL, "fr", "api", who)
    for n in range(1, 7):  # every counter holds a ticket
        try:
            commands.call_next(1, n, who)
        except Exception:
            pass
    return commands, clock, db


def measure_costs() -> dict:
    from queue_server.engine.forecast import forecast
    from queue_server.readmodel.estimates import forecast_input
    from queue_server.readmodel.presenters import probe
    commands, clock, db = _branch(56)  # 50 still waiting once the 6 counters called
    try:
        p = commands.writer.projections.get(1)
        est = commands.estimator
        est._of(p, clock())  # the forecast of this state, made once
        refresh, cpu = [], []
        for _ in range(200):
            t0, c0 = time.perf_counter(), time.process_time()
            forecast(forecast_input(p, clock()))
            refresh.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        reads = []
        services = [s.id for s in p.services]
        for i in range(2000):
            now = clock() + timedelta(seconds=i % 120)
            t = probe(p, services[i % len(services)], now)
            t0 = time.perf_counter()
            ahead = p.index.people_ahead(t, p.counter_list(), now)
            est.estimate(p, t, ahead, now)
            reads.append((time.perf_counter() - t0) * 1000)
        return {"forecast_refresh_ms_50_waiting": summary(refresh),
                "forecast_refresh_cpu_ms_50_waiting": summary(cpu),
                "estimate_ms": summary(reads, 4), "waiting": len(p.index)}
    finally:
        db.dispose()


def measure_accuracy(days: int = 5) -> dict:
    if not SCORER.exists():
        return {"wait_scorer": f"{SCORER} not found"}
    with tempfile.TemporaryDirectory(prefix="bench-wait-") as work:
        out = Path(work) / "wait.json"
        done = subprocess.run(
            [sys.executable, str(SCORER), "--days", str(days), "--workdir", work,
             "--json", str(out), "--replay",
             f"{sys.executable} run.py replay --config {{config}} --events {{events}} "
             f"--out {{out}}"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            raise RuntimeError("wait scorer failed: " + done.stderr[-2000:])
        fig = json.loads(out.read_text())
    product, sim = fig["table"]["PRODUCT"], fig["table"]["SIM"]
    return {"wait_days": days, "wait_tickets": fig["tickets"],
            "wait_mae_min": round(product["MAE"], 3), "wait_mae_sim_min": round(sim["MAE"], 3),
            "wait_mae_ratio_to_sim": round(fig["mae_ratio_to_sim"], 3),
            "wait_rmse_ratio_to_sim": round(product["RMSE"] / sim["RMSE"], 3),
            "wait_bias_min": round(product["bias"], 3),
            "wait_within_5_min_pct": round(product["within5"], 1)}
