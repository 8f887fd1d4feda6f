"""Score the ENGINE's wait forecast on simulated days of several kinds, fast, with
the reference predictions (QL, SIM) cached: the public days and held-out ones.

    .venv/bin/python tests/bench/wait_variants.py --variants public,holdout,heavy,gamma,exp \\
        --days 8 [--jobs 2] [--cache var/wait-cache]

Variants (``../shared/wait/branch_day.py`` patched in-process, nothing written there):
  public   seeds from 1000 (the scorer's days)
  holdout  seeds from 5000, same model
  heavy    seeds from 6000, every arrival rate x 1.15
  gamma    seeds from 7000, gamma service times (same means and sd)
  exp      seeds from 8000, exponential service times (same means)
  light    seeds from 9000, every arrival rate x 0.8

Each day is replayed through ``tests/bench/wait_engine_replay.py`` (the engine
alone, as the product's replay drives it) and scored like ``score.py``: MAE, RMSE,
bias, share within +-5 min, and the ratios to SIM. SIM and QL for a (variant, seed)
are computed once and kept under --cache (they do not depend on the product).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import random
import sys
from concurrent.futures import ProcessPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WAIT = os.path.join(os.path.dirname(ROOT), "shared", "wait")
if not os.path.isdir(WAIT):
    WAIT = "/work/shared/wait"
sys.path.insert(0, ROOT)
sys.path.insert(0, WAIT)
sys.path.insert(0, os.path.join(ROOT, "tests", "bench"))

VARIANTS = {
    "public": dict(first=1000, load=1.0, shape="lognormal"),
    "holdout": dict(first=5000, load=1.0, shape="lognormal"),
    "heavy": dict(first=6000, load=1.15, shape="lognormal"),
    "gamma": dict(first=7000, load=1.0, shape="gamma"),
    "exp": dict(first=8000, load=1.0, shape="exp"),
    "light": dict(first=9000, load=0.8, shape="lognormal"),
}


_ORIG: dict = {}


def _setup(variant: str):
    """Patch branch_day and reference for a variant; return (bd, ref)."""
    import ciw
    import branch_day as bd
    v = VARIANTS[variant]
    base = {"A": 29.0, "B": 11.0, "C": 5.5}
    bd.PEAK_RATE.update({s: r * v["load"] for s, r in base.items()})
    shape = v["shape"]

    def dist(s):
        m, sd = bd.SERVICE_MEAN[s], bd.SERVICE_SD[s]
        if shape == "gamma":
            k = (m / sd) ** 2
            return ciw.dists.Gamma(k, m / k)
        if shape == "exp":
            return ciw.dists.Exponential(1.0 / m)
        mu, sig = bd.lognormal_params(m, sd)
        return ciw.dists.Lognormal(mu, sig)

    def build_network(patience_mean=None):
        endpoints = [60.0 * (h + 1) for h in range(len(bd.HOUR_PROFILE))]
        arrivals, services = {}, {}
        for s in bd.SERVICES:
            for prio in (False, True):
                share = bd.PRIORITY_SHARE if prio else 1.0 - bd.PRIORITY_SHARE
                rates = [bd.PEAK_RATE[s] * m * share / 60.0 for m in bd.HOUR_PROFILE]
                c = bd.class_name(s, prio)
                arrivals[c] = [ciw.dists.PoissonIntervals(
                    rates=rates, endpoints=endpoints, max_sample_date=bd.DOORS_CLOSE)]
                services[c] = [dist(s)]
        return ciw.create_network(
            arrival_distributions=arrivals, service_distributions=services,
            number_of_servers=[len(bd.COUNTER_SKILLS)],
            priority_classes={c: (0 if c.endswith("_prio") else 1) for c in arrivals})

    bd.build_network = build_network
    import reference as ref
    orig = _ORIG.setdefault("ref", (ref.sample_service, ref.sample_residual))
    ref.sample_service, ref.sample_residual = orig
    if shape != "lognormal":
        def sample_service(s, rng):
            m, sd = bd.SERVICE_MEAN[s], bd.SERVICE_SD[s]
            if shape == "exp":
                return rng.expovariate(1.0 / m)
            k = (m / sd) ** 2
            return rng.gammavariate(k, m / k)

        def sample_residual(s, elapsed, rng):
            if shape == "exp" or elapsed <= 0:
                return sample_service(s, rng)
            for _ in range(2000):           # rejection: D given D > elapsed
                x = sample_service(s, rng)
                if x > elapsed:
                    return x - elapsed
            return bd.SERVICE_MEAN[s] / 3.0
        ref.sample_service = sample_service
        ref.sample_residual = sample_residual
    return bd, ref


def _refs(variant, seed, d, cache, sim_runs):
    path = os.path.join(cache, f"{variant}-{seed}.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    bd, ref = _setup(variant)
    import score
    rows = bd.simulate_day(seed)
    for r in rows:
        r["counter"] = int(r["counter"]) if r["counter"] != "" else None
    evs = score.day_events(rows, d)
    refs = ref.predictions_for_day(rows, random.Random(seed), sim_runs)
    keep = [dict(ticket=q["ticket"], actual=q["actual"], service=q["service"],
                 QL=q["QL"], SIM=q["SIM"]) for q in refs]
    out = dict(events=evs, refs=keep)
    os.makedirs(cache, exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(out, f)
    os.replace(path + ".tmp", path)
    return out


def _day(job):
    variant, seed, d, cache, sim_runs, workdir, extra = job
    data = _refs(variant, seed, d, cache, sim_runs)
    import score
    import wait_engine_replay as wer
    from queue_server.engine import forecast as fmod
    for kv in filter(None, os.environ.get("WAIT_VARIANTS_PATCH", "").split(",")):
        k, val = kv.split("=")               # sensitivity runs: CONSTANT=value
        setattr(fmod, k, type(getattr(fmod, k))(float(val)))
    os.makedirs(workdir, exist_ok=True)
    cfg = os.environ.get("WAIT_VARIANTS_CONFIG") or os.path.join(workdir, "branch.toml")
    if not os.path.exists(cfg):
        with open(cfg, "w") as f:
            f.write(score.branch_toml())
    ev = os.path.join(workdir, f"events-{variant}-{seed}.csv")
    out = os.path.join(workdir, f"estimates-{variant}-{seed}.csv")
    score.write_events(ev, data["events"])
    wer.main(["--config", cfg, "--events", ev, "--out", out] + extra)
    with open(out, newline="") as f:
        est = {r["ticket"]: float(r["estimated_wait_minutes"] or 0) for r in csv.DictReader(f)}
    return variant, [dict(q, PRODUCT=est[f"T{q['ticket']}"]) for q in data["refs"]]


def metrics(xs, nm):
    err = [x[nm] - x["actual"] for x in xs]
    n = len(err)
    return dict(MAE=sum(map(abs, err)) / n, RMSE=math.sqrt(sum(e * e for e in err) / n),
                bias=sum(err) / n, within5=100 * sum(abs(e) <= 5 for e in err) / n)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variants", default="public,holdout")
    ap.add_argument("--days", type=int, default=8)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--sim-runs", type=int, default=40)
    ap.add_argument("--cache", default=os.path.join(ROOT, "var", "wait-cache"))
    ap.add_argument("--workdir", default=os.path.join(ROOT, "var", "wait-variants"))
    ap.add_argument("--json", default=None)
    ap.add_argument("--replay-args", default="", help="passed to wait_engine_replay.py")
    ap.add_argument("--config", default=None, help="branch file instead of the scorer's")
    args = ap.parse_args(argv)
    variants = args.variants.split(",")
    if args.config:
        os.environ["WAIT_VARIANTS_CONFIG"] = os.path.abspath(args.config)
    jobs = [(v, VARIANTS[v]["first"] + d, d, args.cache, args.sim_runs, args.workdir,
             args.replay_args.split())
            for v in variants for d in range(args.days)]
    res = {v: [] for v in variants}
    with ProcessPoolExecutor(args.jobs) as ex:
        for v, rows in ex.map(_day, jobs):
            res[v] += rows
    table = {}
    print(f"{'variant':8s} {'est':7s} {'MAE':>6s} {'RMSE':>6s} {'bias':>6s} {'<=5':>6s}"
          f"   ratio MAE/RMSE to SIM")
    for v in variants:
        xs = res[v]
        m = {nm: metrics(xs, nm) for nm in ("PRODUCT", "SIM", "QL")}
        table[v] = m
        for nm in ("PRODUCT", "SIM", "QL"):
            r = m[nm]
            extra = ""
            if nm != "SIM":
                extra = (f"   {r['MAE'] / m['SIM']['MAE']:.3f} / "
                         f"{r['RMSE'] / m['SIM']['RMSE']:.3f}")
            print(f"{v:8s} {nm:7s} {r['MAE']:6.3f} {r['RMSE']:6.3f} {r['bias']:+6.3f} "
                  f"{r['within5']:5.1f}%{extra}")
        print(f"{v:8s} by service MAE PRODUCT/SIM: " + "  ".join(
            f"{s} {metrics([x for x in xs if x['service'] == s], 'PRODUCT')['MAE']:.2f}/"
            f"{metrics([x for x in xs if x['service'] == s], 'SIM')['MAE']:.2f}"
            for s in ("A", "B", "C")))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(days=args.days, table=table), f, indent=2)


if __name__ == "__main__":
    main()
