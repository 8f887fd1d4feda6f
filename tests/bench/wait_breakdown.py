"""Where the wait forecast's error comes from, on days ``wait_variants.py`` replayed.

    .venv/bin/python tests/bench/wait_variants.py --variants heavy,exp --days 30 \\
        --cache var/wait-cache --workdir var/wait-variants
    .venv/bin/python tests/bench/wait_breakdown.py --variants heavy,exp --days 30 \\
        --cache var/wait-cache --workdir var/wait-variants

It reads what that run left (the events and estimates CSVs under --workdir, the
cached actual waits and SIM predictions under --cache) and prints, per group of
tickets, the product's and SIM's MAE, RMSE and bias, the product's squared error
beyond SIM's ("extra SE", and its share of the whole), and mean(product - SIM):
by service and tier, by hour of the day, by people ahead, by SIM's wait (how long
the wait really was, roughly). Then the calibration: tickets binned by the
product's own unrounded forecast, with the mean forecast, SIM and actual wait in
each bin (a noisy forecast shows low bins too low and high bins too high).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
from datetime import datetime

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIRST = {"public": 1000, "holdout": 5000, "heavy": 6000, "gamma": 7000, "exp": 8000,
         "light": 9000}


def load(workdir: str, cache: str, variant: str, days: int) -> list[dict]:
    out = []
    for d in range(days):
        seed = FIRST[variant] + d
        est_path = os.path.join(workdir, f"estimates-{variant}-{seed}.csv")
        if not os.path.exists(est_path):
            continue
        with open(os.path.join(cache, f"{variant}-{seed}.json")) as f:
            refs = json.load(f)["refs"]
        issued, t0 = {}, None
        with open(os.path.join(workdir, f"events-{variant}-{seed}.csv"), newline="") as f:
            for r in csv.DictReader(f):
                at = datetime.fromisoformat(r["at"])
                t0 = t0 or at
                if r["kind"] == "ticket_issued":
                    issued[r["ticket"]] = ((at - t0).total_seconds() / 60.0,
                                           r["priority"] not in ("", "none", "normal"))
        with open(est_path, newline="") as f:
            est = {r["ticket"]: r for r in csv.DictReader(f)}
        for q in refs:
            key = f"T{q['ticket']}"
            e, (t, prio) = est[key], issued[key]
            out.append(dict(q, seed=seed, t=t, prio=prio,
                            P=float(e["estimated_wait_minutes"] or 0),
                            Pm=float(e["minutes"] or e["estimated_wait_minutes"] or 0),
                            ahead=int(e["people_ahead"] or 0)))
    return out


def row(xs: list[dict], label: str, total_extra: float) -> None:
    if not xs:
        return
    n = len(xs)
    ep = [x["P"] - x["actual"] for x in xs]
    es = [x["SIM"] - x["actual"] for x in xs]
    sp, ss = sum(e * e for e in ep), sum(e * e for e in es)
    share = (sp - ss) / total_extra * 100 if total_extra else 0.0
    print(f"  {label:18s} n={n:5d}  MAE {sum(map(abs, ep)) / n:6.2f} / {sum(map(abs, es)) / n:6.2f}"
          f"  RMSE {math.sqrt(sp / n):6.2f} / {math.sqrt(ss / n):6.2f}"
          f"  bias {sum(ep) / n:+6.2f} / {sum(es) / n:+6.2f}"
          f"  extra SE {sp - ss:8.0f} ({share:+5.1f} %)"
          f"  P-SIM {sum(x['P'] - x['SIM'] for x in xs) / n:+6.2f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variants", default="heavy,exp")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--cache", default=os.path.join(ROOT, "var", "wait-cache"))
    ap.add_argument("--workdir", default=os.path.join(ROOT, "var", "wait-variants"))
    args = ap.parse_args(argv)
    for v in args.variants.split(","):
        xs = load(args.workdir, args.cache, v, args.days)
        if not xs:
            print(f"{v}: no replayed days under {args.workdir}")
            continue
        tot = sum((x["P"] - x["actual"]) ** 2 - (x["SIM"] - x["actual"]) ** 2 for x in xs)
        print(f"== {v} ({len({x['seed'] for x in xs})} days; columns: product / SIM)")
        row(xs, "all", tot)
        for s in sorted({x["service"] for x in xs}):
            for p in (False, True):
                row([x for x in xs if x["service"] == s and x["prio"] == p],
                    f"{s} {'priority' if p else 'normal'}", tot)
        for h in range(8):
            row([x for x in xs if int(x["t"] // 60) == h], f"hour {8 + h:02d}-{9 + h:02d}", tot)
        for s in sorted({x["service"] for x in xs}):
            for lo, hi in ((0, 1), (1, 3), (3, 6), (6, 10), (10, 999)):
                row([x for x in xs if x["service"] == s and lo <= x["ahead"] < hi],
                    f"{s} ahead {lo}-{hi - 1 if hi < 999 else '+'}", tot)
        for lo, hi in ((0, 5), (5, 15), (15, 30), (30, 60), (60, 999)):
            row([x for x in xs if lo <= x["SIM"] < hi], f"SIM {lo}-{hi if hi < 999 else '+'} min", tot)
        print("  calibration (bins of the product's unrounded forecast): mean forecast / SIM / actual")
        for s in sorted({x["service"] for x in xs}):
            for lo, hi in ((0.5, 5), (5, 15), (15, 30), (30, 50), (50, 80), (80, 999)):
                ys = [x for x in xs if x["service"] == s and lo <= x["Pm"] < hi]
                if len(ys) >= 5:
                    n = len(ys)
                    print(f"    {s} [{lo:g}, {hi if hi < 999 else 'inf'}) n={n:5d}  "
                          f"{sum(x['Pm'] for x in ys) / n:6.2f} / {sum(x['SIM'] for x in ys) / n:6.2f}"
                          f" / {sum(x['actual'] for x in ys) / n:6.2f}")


if __name__ == "__main__":
    main()
