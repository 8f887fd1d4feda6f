"""The supervisors' view (``measure_supervisor``): its refresh costs O(branches), not
O(tickets). In-process (the app factory on SQLite, no server around it), a network of
150 branches in 10 regions, each with 10 tickets waiting on an open counter:

- ``supervisor_national_refresh_ms_150_branches``: every branch's roll-up row, sorted
  worst first (the national supervisor's snapshot, ``supervisor_snapshot``: the scope's
  branches read, one row per branch from its projection), 100+ samples;
- ``supervisor_region_flush_ms_15_branches``: what the fan-out does for a region whose
  15 branches all changed within its coalescing window (``send_rollups``: 15 rows built
  and emitted), 100+ samples;
- ``supervisor_row_us_at_10_waiting`` and ``supervisor_row_us_at_1000_waiting``: one
  branch's row at 10 and at 1,000 waiting (the same branch, more tickets): flat, since
  a row reads counts and the oldest arrival per service, never the tickets.
"""
from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.stats import summary

ROOT = Path(__file__).resolve().parents[2]
BRANCHES = 150
REGIONS = 10
WAITING = 10
DEEP = 1000


def _config(folder: Path) -> Path:
    """config/branches.toml with 10 regions and 149 more copies of its branch."""
    sys.path.insert(0, str(ROOT / "tests"))
    from support.regions import network_config
    text = (ROOT / "config" / "branches.toml").read_text(encoding="utf-8")
    regions = "\n".join(f'r{i:02d} = {{ ar = "جهة {i}", fr = "Région {i}", en = "Region {i}" }}'
                        for i in range(REGIONS))
    head = folder / "head.toml"
    head.write_text(text.replace("[regions]\n", "[regions]\n" + regions + "\n", 1),
                    encoding="utf-8")
    extra = {f"b{n:03d}": (f"r{n % REGIONS:02d}", f"Agence {n}", f"وكالة {n}")
             for n in range(1, BRANCHES)}
    return network_config(folder, extra, source=head)


def _time(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def measure_supervisor(work: Path | None = None) -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    from support.app import make_app
    from queue_server.auth import Principal, Scope
    from queue_server.engine.model import Actor, PriorityClass
    from queue_server.supervisor.view import supervisor_snapshot

    work = Path(work or tempfile.mkdtemp(prefix="bench-supervisor-"))
    work.mkdir(parents=True, exist_ok=True)
    app = make_app(f"sqlite:///{work / 'tabour.sqlite'}",
                   lambda: datetime.now(timezone.utc), config_path=_config(work))
    t = app.extensions["tabour"]
    actor = Actor("user", 1, "bench")
    ids = t.branch_ids()
    assert len(ids) == BRANCHES, len(ids)
    t0 = time.monotonic()
    for b in ids:
        t.commands.counter_action(b, 6, "open", actor)
        for i in range(WAITING):
            t.commands.issue(b, "ABCDE"[i % 5], PriorityClass.NORMAL, "fr", "api", actor)
    fill_s = time.monotonic() - t0
    national = Principal(ids[0], "supervisor", "session", "bench", 1, 1, Scope(national=True))

    def refresh():
        snap = supervisor_snapshot(t, national)
        assert len(snap["rows"]) == BRANCHES

    refresh()  # first time: every projection loaded, every served count read once
    recounts = t.rollups.stats["recounts"]
    national_ms = _time(refresh, 120)
    assert t.rollups.stats["recounts"] == recounts  # kept from events, not read again

    region = t.rollups.region_of(ids[1])
    in_region = [b for b in ids if t.rollups.region_of(b) == region]
    flush_ms = _time(lambda: t.fanout.send_rollups(region, in_region), 120)

    deep = ids[0]
    now = t.now
    shallow_us = [x * 1000 for x in _time(lambda: t.rollups.row(deep, now()), 500)]
    for i in range(DEEP - WAITING):
        t.commands.issue(deep, "ABCDE"[i % 5], PriorityClass.NORMAL, "fr", "api", actor)
    assert t.rollups.row(deep, now())["waiting"] == DEEP
    deep_us = [x * 1000 for x in _time(lambda: t.rollups.row(deep, now()), 500)]
    t.db.dispose()
    return {
        "supervisor_national_refresh_ms_150_branches": summary(national_ms),
        f"supervisor_region_flush_ms_{len(in_region)}_branches": summary(flush_ms),
        "supervisor_row_us_at_10_waiting": summary(shallow_us, 1),
        "supervisor_row_us_at_1000_waiting": summary(deep_us, 1),
        "supervisor_bench_fill_s": round(fill_s, 1),
    }


if __name__ == "__main__":
    import json
    print(json.dumps(measure_supervisor(), indent=2))
