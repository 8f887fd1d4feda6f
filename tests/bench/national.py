"""`make bench-national`: a national network on one deployment, at load.

nginx in front of 3 server processes on PostgreSQL, Redis as their message queue
(tests/support/topology.py, the shape `make topology` starts), 150 branches and
about 1,200 Socket.IO clients connected through nginx: per branch a wall display,
a kiosk and the consoles of its first 6 counters (the other counters' agents act
over HTTP only, as an agent whose console is closed would).

The branches are the simulator's (../shared/wait/branch_day.py, Ciw): a simulated
branch is 6 counters with skills (A / A / A,B / B / B,C / C) and about 250 tickets a
day; a branch of this bench is 1 to 6 of them side by side (250 to 1,500 tickets a
day, 6 to 36 counters: counters in proportion, each about as busy as the simulated
one). Every group of 6 counters takes its arrivals and its visitors' service times
from one simulated day (one seed each). The busiest hour of the network (by arrivals)
is replayed: the tickets waiting at its start are issued first (not measured), then
each arrival is a kiosk tap at its time divided by the speed-up; agents call-next
(the server picks the ticket), start, serve for the ticket's simulated service time
divided by the speed-up, finish, call again. The servers run on their real clock.

Measured per speed-up: call -> display (the branch's display gets ticket_called,
timed against the moment the counter's call-next answered), issue and call-next
latencies, each process's CPU and memory (/proc), and, against the database at the
end, tickets lost (a kiosk got its ticket but the database has none), called twice,
and calls the branch's display never heard of (neither live nor in a snapshot after
a reconnect). ``national_speedup_x``: the highest speed-up tried at which call ->
display p99 <= 50 ms and nothing is lost or doubled. Then one more run at that
speed-up, with ``kill -9`` of one server process midway.

    .venv/bin/python tests/bench/national.py [--speedups 2,3,5,10,20,40] [--seconds 60]

Prints one JSON object, also written to var/bench/national.json.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import json
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from collections import Counter as Tally
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench.stats import cpu_yardstick, summary  # noqa: E402

SIM = Path(os.environ.get("TABOUR_WAIT_SIM", ROOT.parent / "shared" / "wait"))
PASSWORD = "national-admin-password"
PG_ADMIN = os.environ.get("TABOUR_TOPOLOGY_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BRANCHES = 150
COUNTER_SOCKETS = 6          # consoles with a socket per branch (display + kiosk + 6 = 8)
P99_LIMIT_MS = 50.0
ZONES = ("Africa/Casablanca", "Africa/Algiers", "Africa/Tunis")
SERVICE_NAMES = {"A": "Allocations familiales", "B": "Maladie", "C": "Pensions"}


# --- the simulated days -------------------------------------------------------------

def simulator():
    path = SIM / "branch_day.py"
    if not path.exists():
        raise SystemExit(f"bench-national: the simulator is not at {path} "
                         "(TABOUR_WAIT_SIM names its folder)")
    spec = importlib.util.spec_from_file_location("tabour_wait_branch_day", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# after a kill -9, how long to wait for the calls the dead process never announced:
# the housekeeping lease's time to live (TABOUR_LEASE_S, 30 s by default), a round of
# housekeeping (5 s), announcements.OVERDUE_S, and some slack
KILL_ANNOUNCE_WAIT_S = float(os.environ.get("TABOUR_LEASE_S", 30)) + 5 + 15 + 10
STEADY_AFTER_S = 10.0  # call_to_display_ms_after_10s leaves out the run's start
PLAN_VERSION = 2  # 2: the counters busy when the hour starts (busy_s)


def plan_network(branches: int, seed: int = 1) -> dict:
    """Branches (groups of 6 simulated counters each), their days, the busiest hour;
    kept in var/bench/ (simulating ~500 days takes a while on a loaded machine)."""
    cache = ROOT / "var" / "bench" / f"national-plan-v{PLAN_VERSION}-{branches}-{seed}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    plan = _simulate(branches, seed)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(plan))
    return plan


def _simulate(branches: int, seed: int) -> dict:
    sim = simulator()
    rng = random.Random(seed)
    plan = {"branches": [], "busiest_hour": None}
    days_by_hour = Tally()
    seed_no = 2000  # not the public days of the wait score (1000+)
    for i in range(branches):
        groups = rng.randint(1, 6)
        days = []
        for _ in range(groups):
            rows = [r for r in sim.simulate_day(seed_no) if r["outcome"] == "service"]
            seed_no += 1
            days.append(rows)
            days_by_hour.update(int(r["arrival"] // 60) for r in rows)
        plan["branches"].append({"code": f"nat-{i + 1:03d}", "groups": groups,
                                 "timezone": ZONES[i % len(ZONES)], "days": days})
    hour = max(range(8), key=lambda h: days_by_hour[h])
    plan["busiest_hour"] = hour
    plan["skills"] = {str(n): sim.COUNTER_ORDER[n] for n in sim.COUNTER_ORDER}
    start = hour * 60.0
    for b in plan["branches"]:
        waiting, arrivals = [], []
        # the counters serving someone when the hour starts, and for how much longer:
        # they call their next visitor then, not all at the first second
        b["busy_s"] = {}
        for group, rows in enumerate(b["days"]):
            for r in rows:
                if r["service_start"] <= start < r["service_end"]:
                    b["busy_s"][str(6 * group + int(r["counter"]))] = (
                        r["service_end"] - start) * 60.0
        for rows in b["days"]:
            for r in rows:
                ticket = {"service": r["service"], "priority": bool(r["priority"]),
                          "minutes": r["service_end"] - r["service_start"],
                          "at_s": (r["arrival"] - start) * 60.0}
                if r["arrival"] < start <= r["service_start"]:
                    waiting.append(ticket)
                elif start <= r["arrival"] < start + 60:
                    arrivals.append(ticket)
        b["waiting"] = sorted(waiting, key=lambda t: t["at_s"])
        b["arrivals"] = sorted(arrivals, key=lambda t: t["at_s"])
        b["tickets_per_day"] = sum(len(d) for d in b.pop("days"))
    return plan


def write_config(plan: dict, path: Path) -> None:
    out = ["# bench-national: generated, one branch per simulated branch size\n"]
    for b in plan["branches"]:
        out.append(f'[[branch]]\ncode = "{b["code"]}"\ntimezone = "{b["timezone"]}"\n'
                   'languages = ["ar", "fr"]\ndisplay_languages = ["ar", "fr"]\n'
                   'outcomes = ["served"]\n'
                   f'[branch.names]\nfr = "Agence {b["code"]}"\nar = "وكالة {b["code"]}"\n')
        for prefix, name in SERVICE_NAMES.items():
            out.append(f'[[branch.service]]\nprefix = "{prefix}"\n'
                       f'names = {{ fr = "{name}", ar = "{name}" }}\n')
        for g in range(b["groups"]):
            for n, services in plan["skills"].items():
                number = g * 6 + int(n)
                out.append(f'[[branch.counter]]\nnumber = {number}\nname = "Guichet {number}"\n'
                           f'services = {json.dumps(services)}\n')
    path.write_text("".join(out), encoding="utf-8")


# --- the deployment ------------------------------------------------------------------

PG = {"admin": PG_ADMIN, "postmaster": None}


def _pg(dbname: str = "postgres"):
    import psycopg
    return psycopg.connect(PG["admin"].rsplit("/", 1)[0] + "/" + dbname, autocommit=True)


def db_url(name: str) -> str:
    return PG["admin"].rsplit("/", 1)[0] + "/" + name


def private_cluster(work: Path):
    """A PostgreSQL cluster of the bench's own (initdb in a temp folder): the shared
    local server has 100 connections for every session and test on the machine, and
    3 processes under load may hold up to 40 each. Durable as a deployment (fsync on,
    unlike the outage tests' throwaway clusters)."""
    from support.topology import PG_BIN, PrivatePostgres

    class Cluster(PrivatePostgres):
        def start(self):
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                      "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                            "-c max_connections=300 -c shared_buffers=128MB", "start")
            return self

        def postmaster(self) -> int:
            return int((self.data / "postmaster.pid").read_text().split()[0])
    return Cluster(work).init()


def prepare_template(plan: dict, work: Path, name: str) -> dict:
    """Migrate and seed once; per branch a display, a kiosk and a manager who works
    every counter; every counter open; the tickets waiting at the hour's start issued.
    Each run then starts on a copy (CREATE DATABASE ... TEMPLATE)."""
    from support.topology import migrate
    with _pg() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    migrate(db_url(name), PASSWORD, work / "migrate.log")

    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from queue_server.app import create_app
    from queue_server.db import schema as s
    from queue_server.engine.model import Actor, PriorityClass
    from queue_server.settings import Settings
    app = create_app(Settings(database_url=db_url(name), async_mode="threading",
                              config_path=Path(os.environ["TABOUR_CONFIG"]),
                              admin_password=PASSWORD, var_dir=work / "prep-var"))
    t = app.extensions["tabour"]
    with t.db.read() as conn:
        ids = dict(conn.execute(select(s.branches.c.code, s.branches.c.id)).all())
    pw_hash = generate_password_hash("national-manager-pw")
    tokens, durations = {}, {}
    for b in plan["branches"]:
        bid = ids[b["code"]]
        with t.db.write() as conn:
            uid = t.auth.insert_user(conn, bid, f"mgr-{b['code']}", pw_hash, "manager",
                                     f"Manager {b['code']}")
            manager = t.auth.insert_token(conn, bid, "session", "manager", "bench manager", uid,
                                          t.now() + timedelta(hours=12))[0]
        tokens[b["code"]] = {"id": bid, "manager": manager,
                             "display": t.auth.create_device(bid, "display", "hall TV"),
                             "kiosk": t.auth.create_device(bid, "kiosk", "kiosk 1")}
        actor = Actor("user", uid, "bench manager")
        for n in range(1, 6 * b["groups"] + 1):
            t.commands.counter_action(bid, n, "open", actor, agent_user_id=uid)
        for k in b["waiting"]:
            issued = t.commands.issue(bid, k["service"], PriorityClass.ELDERLY if k["priority"]
                                      else PriorityClass.NORMAL, "ar", "kiosk", actor,
                                      f"pre-{uuid.uuid4().hex}")
            durations[f"{bid}:{issued.ticket.code}"] = k["minutes"]
    t.db.dispose()
    return {"tokens": tokens, "durations": durations}


# --- processes' CPU and memory ----------------------------------------------------

CLK = os.sysconf("SC_CLK_TCK")


def _proc(pid: int) -> tuple[float, float, int, str] | None:
    """(cpu seconds, rss MB, ppid, name)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text()
                   .splitlines() if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return None
    name = stat[stat.index("(") + 1:stat.rindex(")")]
    f = stat[stat.rindex(")") + 2:].split()
    return (int(f[11]) + int(f[12])) / CLK, rss / 1024, int(f[1]), name


class Meter:
    """Samples the topology's processes once a second: CPU share (summed over each
    process's own lifetime in the window, so a killed one keeps what it used) and peak
    RSS of each group. ``parents``: groups that also count their children (nginx's
    workers, PostgreSQL's backends); ``by_name``: groups of every process so named."""

    def __init__(self, groups: dict[str, list[int]], parents: tuple[str, ...] = (),
                 by_name: tuple[str, ...] = ()):
        self.groups, self.parents, self.by_name = groups, parents, by_name
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.group_of: dict[int, str] = {}
        self.peak: dict[str, float] = {}
        self.t0: float | None = None
        self.t1 = 0.0

    def _pids(self) -> dict[str, list[int]]:
        out = {k: list(v) for k, v in self.groups.items()}
        parent_of = {pid: g for g in self.parents for pid in out.get(g, ())}
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                p = _proc(int(d.name))
                if p and p[2] in parent_of:
                    out[parent_of[p[2]]].append(int(d.name))
                elif p and p[3] in self.by_name:
                    out.setdefault(f"{p[3]} (all, shared)", []).append(int(d.name))
        return out

    def sample(self) -> None:
        now = time.monotonic()
        if self.t0 is None:
            self.t0 = now
        self.t1 = now
        for group, pids in self._pids().items():
            rss = 0.0
            for pid in pids:
                p = _proc(pid)
                if p:
                    self.first.setdefault(pid, p[0])
                    self.last[pid] = p[0]
                    self.group_of[pid] = group
                    rss += p[1]
            self.peak[group] = max(self.peak.get(group, 0.0), rss)

    def result(self) -> dict:
        wall = max(self.t1 - (self.t0 or self.t1), 1e-6)
        cpu = Tally()
        for pid, group in self.group_of.items():
            cpu[group] += self.last[pid] - self.first[pid]
        return {g: {"cpu_percent": round(100 * cpu[g] / wall, 1), "cpu_s": round(cpu[g], 2),
                    "rss_mb_peak": round(self.peak[g], 1)} for g in self.peak}


# --- one run --------------------------------------------------------------------------

async def backoff(attempt: int) -> None:
    """What a page does after a failed request: wait longer each time (0.2 s doubling
    up to 5 s, with jitter), so a struggling deployment is not buried in retries."""
    await asyncio.sleep(min(5.0, 0.2 * 2 ** attempt) * (0.5 + random.random()))


class Run:
    def __init__(self, url: str, plan: dict, prep: dict, speedup: float, seconds: float,
                 kill=None):
        self.url, self.plan, self.prep = url, plan, prep
        self.speedup, self.seconds, self.kill = speedup, seconds, kill
        self.durations = dict(prep["durations"])
        # (branch, ticket code) -> when: codes are unique in a branch day, and what a
        # display shows (its snapshot's calls carry no ticket id)
        self.call_answer: dict[tuple[int, str], float] = {}
        self.call_sent: dict[tuple[int, str], float] = {}  # when that call-next was sent
        self.display_live: dict[tuple[int, str], float] = {}
        # the voice: when the display got each call's `announcement` (audio made)
        self.announced: dict[tuple[int, str], float] = {}
        self.display_snap: set[tuple[int, str]] = set()
        # announced late: what the display page fetches after a reconnect
        # (/display/announcements, the last LATE_S seconds) and plays if it had not
        self.display_late: set[tuple[int, str]] = set()
        self.display_resynced: set[int] = set()  # branches whose display took a new snapshot
        self.http = None
        self.display_dups = 0
        self.seen_seq: set[tuple[int, int]] = set()
        self.issue_ms: list[float] = []
        self.call_ms: list[float] = []
        self.lag_ms: list[float] = []
        self.loop_lag_ms: list[float] = []  # the generator's event loop, every 50 ms
        self.started_at = 0.0  # when the replay began (perf_counter)
        self.ended_at = float("inf")  # when the run and its 3 s of settling ended
        # (branch, counter) -> (ticket id, minutes): called while the branch settled
        self.settled: dict[tuple[int, int], tuple[int, float]] = {}
        self.acked: dict[str, int] = {}     # idempotency key -> ticket id
        self.unacked: list[str] = []
        self.failures = Tally()
        self.snapshots = Tally()             # per client kind, beyond the first
        self.disconnects = Tally()           # "kind: reason" (python-socketio's reasons)
        self.reconnect_s: list[float] = []
        self.killed_at: float | None = None
        self.clients = []
        self.stopping = False
        self.events_received = 0
        # what each branch's agents see on their consoles: tickets waiting per service,
        # and the counters idle until someone waits for them (no polling)
        self.waiting: dict[int, Tally] = {}
        self.idle: dict[int, dict[int, asyncio.Event]] = {}
        self.skills: dict[tuple[int, int], list[str]] = {}
        for b in plan["branches"]:
            bid = prep["tokens"][b["code"]]["id"]
            self.waiting[bid] = Tally(k["service"] for k in b["waiting"])
            self.idle[bid] = {}
            for n in range(1, 6 * b["groups"] + 1):
                self.skills[(bid, n)] = plan["skills"][str((n - 1) % 6 + 1)]

    def someone_waits(self, bid: int, service: str) -> None:
        self.waiting[bid][service] += 1
        idle = [n for n in self.idle[bid] if service in self.skills[(bid, n)]]
        if idle:
            self.idle[bid].pop(random.choice(idle)).set()

    def taken(self, bid: int, service: str | None) -> None:
        if service and self.waiting[bid][service] > 0:
            self.waiting[bid][service] -= 1

    async def wait_for_work(self, bid: int, n: int, end_at: float) -> None:
        if any(self.waiting[bid][sv] > 0 for sv in self.skills[(bid, n)]):
            return
        ev = self.idle[bid].setdefault(n, asyncio.Event())
        # and a look now and then, as an agent glances at the hall: each agent at its
        # own moments (the same 30 s for all had every idle counter of the network
        # call at once, 30 s into each run)
        glance = random.uniform(15.0, 45.0)
        try:
            await asyncio.wait_for(ev.wait(), timeout=max(0.1, min(glance, end_at - time.perf_counter())))
        except asyncio.TimeoutError:
            self.idle[bid].pop(n, None)

    async def _client(self, token: str, kind: str, branch: int, counter: int | None = None):
        import socketio
        c = socketio.AsyncClient(reconnection=True, reconnection_delay=0.5,
                                 reconnection_delay_max=2, randomization_factor=0.5)
        first = [True]

        @c.event
        async def disconnect(reason=None):
            if not self.stopping:
                self.disconnects[f"{kind}: {reason}"] += 1

        @c.on("snapshot")
        async def _snapshot(data):
            if first[0]:
                first[0] = False
                return
            self.snapshots[kind] += 1
            if self.killed_at is not None:
                self.reconnect_s.append(time.perf_counter() - self.killed_at)
            if kind == "display":
                self.display_resynced.add(branch)
                for call in data.get("calls") or []:
                    self.display_snap.add((branch, call["code"]))
                if self.http is not None:  # as display.js does after a reconnect
                    asyncio.get_running_loop().create_task(self._late(token, branch))

        if kind == "display":
            @c.on("ticket_called")
            async def _called(p):
                now = time.perf_counter()
                key = (branch, p["code"])
                if (branch, p["seq"]) in self.seen_seq:
                    self.display_dups += 1
                self.seen_seq.add((branch, p["seq"]))
                self.display_live.setdefault(key, now)

            @c.on("announcement")
            async def _announced(p):
                self.announced.setdefault((branch, p["code"]), time.perf_counter())
        else:
            @c.on("*")
            async def _any(_event, _data=None):
                self.events_received += 1

        async def again():
            try:
                await c.disconnect()
                await c.connect(self.url, auth=auth, transports=["websocket"], wait_timeout=20)
            except Exception:  # noqa: BLE001 - the next resync tries again
                self.failures["resync reconnect"] += 1

        @c.on("resync")
        async def _resync(_data=None):  # what the pages do: a fresh snapshot
            self.snapshots["resync asked"] += 1
            asyncio.get_running_loop().create_task(again())

        auth = {"token": token}
        if counter is not None:
            auth.update(view="counter", counter=counter)
        for attempt in range(5):  # a loaded deployment may be slow to answer: again
            try:
                await c.connect(self.url, auth=auth, transports=["websocket"], wait_timeout=30)
                self.clients.append(c)
                return
            except Exception:  # noqa: BLE001 - counted; the run reports it
                self.failures["socket connect"] += 1
                await asyncio.sleep(1 + attempt)
        self.failures["socket never connected"] += 1

    async def connect_all(self) -> float:
        jobs = []
        for b in self.plan["branches"]:
            tok = self.prep["tokens"][b["code"]]
            jobs.append((tok["display"], "display", tok["id"], None))
            jobs.append((tok["kiosk"], "kiosk", tok["id"], None))
            for n in range(1, min(COUNTER_SOCKETS, 6 * b["groups"]) + 1):
                jobs.append((tok["manager"], "counter", tok["id"], n))
        t0 = time.perf_counter()
        for i in range(0, len(jobs), 20):  # in waves, as TVs waking up in the morning
            await asyncio.gather(*(self._client(*j) for j in jobs[i:i + 20]))
        return time.perf_counter() - t0

    async def _late(self, token: str, branch: int) -> None:
        for attempt in range(5):
            status, data = await self._get(self.http, "/display/announcements?after=0", token)
            if status == 200:
                self.display_late.update((branch, a["code"]) for a in data["announcements"])
                return
            self.failures[f"late announcements {status}"] += 1
            await backoff(attempt)

    async def _post(self, http, path, token, body, key=None):
        headers = {"Authorization": f"Bearer {token}"}
        if key:
            headers["Idempotency-Key"] = key
        import aiohttp
        try:
            async with http.post(self.url + path, json=body, headers=headers,
                                 timeout=aiohttp.ClientTimeout(total=20)) as r:
                data = await r.json() if r.status in (200, 201) else await r.text()
                return r.status, data
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return exc.__class__.__name__, None

    async def _get(self, http, path, token):
        import aiohttp
        try:
            async with http.get(self.url + path, headers={"Authorization": f"Bearer {token}"},
                                timeout=aiohttp.ClientTimeout(total=20)) as r:
                return r.status, (await r.json() if r.status == 200 else None)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return exc.__class__.__name__, None

    async def tap(self, http, bid: int, token: str, k: dict, due: float):
        """A kiosk tap; a failed one is tapped again with the same key (the kiosk page)."""
        key = f"nat-{uuid.uuid4().hex}"
        self.lag_ms.append((time.perf_counter() - due) * 1000)
        first = True
        give_up = time.perf_counter() + 60
        for attempt in range(10_000):
            t0 = time.perf_counter()
            status, data = await self._post(http, "/api/v1/tickets", token,
                                            {"service": k["service"], "priority": k["priority"],
                                             "language": "ar"}, key)
            if status in (200, 201):
                if first:
                    self.issue_ms.append((time.perf_counter() - t0) * 1000)
                self.acked[key] = data["id"]
                self.someone_waits(bid, k["service"])
                self.durations[f"{bid}:{data['code']}"] = k["minutes"]
                return
            self.failures[f"issue {status}"] += 1
            first = False
            if time.perf_counter() > give_up:
                self.unacked.append(key)
                return
            await backoff(attempt)

    async def kiosk(self, http, b: dict, start: float, end_s: float):
        tok = self.prep["tokens"][b["code"]]
        tasks = []
        for k in b["arrivals"]:
            at = k["at_s"] / self.speedup
            if at > end_s:
                break
            delay = start + at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.tap(http, tok["id"], tok["kiosk"], k,
                                                      start + at)))
        await asyncio.gather(*tasks)

    async def current(self, http, number, token) -> dict | None:
        """What the counter holds, asked until the deployment answers."""
        for attempt in range(30):
            status, data = await self._get(http, "/api/v1/counters", token)
            if status == 200:
                return next(c for c in data["counters"] if c["number"] == number)[
                    "current_ticket"]
            self.failures[f"counter read {status}"] += 1
            await backoff(attempt)

    async def step(self, http, base, token, action, ticket_id, body=None) -> None:
        """start / finish, retried when unanswered; a 409 after a lost answer means it
        was done."""
        for attempt in range(30):
            status, _ = await self._post(http, f"{base}/{action}", token,
                                         {"ticket_id": ticket_id, **(body or {})})
            if status == 200 or (status == 409 and attempt > 0):
                return
            self.failures[f"{action} {status}"] += 1
            if isinstance(status, int) and 400 <= status < 500:
                return
            await backoff(attempt)

    async def agent(self, http, b: dict, n: int, end_at: float):
        tok = self.prep["tokens"][b["code"]]
        bid, token = tok["id"], tok["manager"]
        base = f"/api/v1/counters/{n}"
        # a counter that serves a visitor when the hour starts (in the simulated day, or
        # one it called while the branch settled) calls its next one when that visitor
        # leaves; the others at once
        settled = self.settled.get((bid, n))
        busy_s = b["busy_s"].get(str(n)) if settled is None else settled[1] * 60
        await asyncio.sleep(random.random() * 0.5 if busy_s is None
                            else min(busy_s / self.speedup, max(0.0, end_at - time.perf_counter())))
        if settled is not None:
            if time.perf_counter() >= end_at:
                return  # still serving when the run ends
            await self.step(http, base, token, "finish", settled[0], {"outcome": "served"})
        while time.perf_counter() < end_at:
            await self.wait_for_work(bid, n, end_at)
            if time.perf_counter() >= end_at:
                return
            t0 = time.perf_counter()
            status, data = await self._post(http, f"{base}/call-next", token, {})
            if status == 200:
                t1 = time.perf_counter()
                self.call_ms.append((t1 - t0) * 1000)
                self.call_answer[(bid, data["code"])] = t1
                self.call_sent[(bid, data["code"])] = t0
                ticket = data
            elif status == 204:  # another counter took it: idle until someone comes
                for sv in self.skills[(bid, n)]:
                    self.waiting[bid][sv] = 0
                continue
            else:  # no answer, or 409 (it holds one): ask the counter (resync)
                self.failures[f"call-next {status}"] += 1
                ticket = await self.current(http, n, token)
                if ticket is None:
                    await asyncio.sleep(0.2)
                    continue
            self.taken(bid, ticket.get("service"))
            if ticket.get("status") in (None, "called"):
                await self.step(http, base, token, "start", ticket["id"])
            minutes = self.durations.get(f"{bid}:{ticket['code']}", 5.0)
            if time.perf_counter() + minutes * 60 / self.speedup > end_at:
                # still serving when the run ends: the counter stops there (every
                # counter finishing at the last second was a burst no branch makes)
                return
            await asyncio.sleep(minutes * 60 / self.speedup)
            await self.step(http, base, token, "finish", ticket["id"], {"outcome": "served"})

    async def settle(self, http) -> int:
        """Before the measured hour: each branch's idle counters call the visitors
        already waiting for them, as a branch with one queue would have done before
        the hour started (the simulated branches are groups of 6 counters with a queue
        each; pooled into one branch, an idle counter of one group finds another
        group's visitors waiting, and the network's ~1,400 idle counters all called at
        the first second). Not measured; the run starts when they are all served."""
        async def branch(b):
            tok = self.prep["tokens"][b["code"]]
            bid, token = tok["id"], tok["manager"]
            idle = [n for n in range(1, 6 * b["groups"] + 1) if str(n) not in b["busy_s"]]
            random.shuffle(idle)
            for n in idle:
                if not any(self.waiting[bid][sv] > 0 for sv in self.skills[(bid, n)]):
                    continue
                base = f"/api/v1/counters/{n}"
                status, data = await self._post(http, f"{base}/call-next", token, {})
                if status != 200:
                    continue
                self.taken(bid, data.get("service"))
                await self.step(http, base, token, "start", data["id"])
                minutes = self.durations.get(f"{bid}:{data['code']}", 5.0)
                self.settled[(bid, n)] = (data["id"], minutes)
        await asyncio.gather(*(branch(b) for b in self.plan["branches"]))
        return len(self.settled)

    async def go(self, meter: Meter) -> dict:
        import aiohttp
        connect_s = await self.connect_all()
        http = self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=400))
        settled = await self.settle(http)
        await asyncio.sleep(2)  # the settling calls' fan-out and announcements
        # the generator's own pauses land in every latency it measures: what lives for
        # the whole run (the plan, 1,200 clients) is kept out of the collector's scans
        gc.collect()
        gc.freeze()
        meter.sample()
        sampling = True

        async def loop_probe():  # how late the generator's own loop wakes up
            while sampling:
                t0 = time.perf_counter()
                await asyncio.sleep(0.05)
                self.loop_lag_ms.append((time.perf_counter() - t0 - 0.05) * 1000)
        probe = asyncio.create_task(loop_probe())

        async def sample_loop():
            ticks = 0
            while sampling:
                await asyncio.sleep(1)
                meter.sample()
                ticks += 1
                if ticks % 15 == 0:
                    print(f"bench-national:   t={ticks}s tickets {len(self.acked)}, calls "
                          f"{len(self.call_answer)}, display heard {len(self.display_live)}, "
                          f"failures {sum(self.failures.values())}", file=sys.stderr, flush=True)
        sampler = asyncio.create_task(sample_loop())
        start = self.started_at = time.perf_counter() + 0.5
        end_at = start + self.seconds
        await asyncio.sleep(0.5)
        jobs = [self.kiosk(http, b, start, self.seconds) for b in self.plan["branches"]]
        jobs += [self.agent(http, b, n, end_at) for b in self.plan["branches"]
                 for n in range(1, 6 * b["groups"] + 1)]
        if self.kill is not None:
            async def killer():
                await asyncio.sleep(self.seconds / 2)
                self.killed_at = time.perf_counter()
                await asyncio.get_running_loop().run_in_executor(None, self.kill)
            jobs.append(killer())
        try:  # a deployment that stops answering must not hang the bench
            await asyncio.wait_for(asyncio.gather(*jobs), self.seconds + 120)
        except asyncio.TimeoutError:
            self.failures["run did not end within 120 s of its time"] += 1
        sampling = False
        await sampler
        await probe
        await asyncio.sleep(3)  # the last calls reach the displays
        self.ended_at = time.perf_counter()
        if self.kill is not None:
            # a call the killed process had not announced yet is announced late by the
            # deployment's housekeeping (announcements.OVERDUE_S after it was made, by
            # the process holding the housekeeping lease: another one once the dead
            # process's lease has expired): wait for those, up to that long
            deadline = self.ended_at + KILL_ANNOUNCE_WAIT_S
            while time.perf_counter() < deadline and self.unannounced():
                await asyncio.sleep(0.5)
        self.http = None
        await http.close()
        return {"connect_s": connect_s, "settled": settled}

    def unannounced(self) -> list[tuple[int, str]]:
        """The calls answered that the branch's display neither got an `announcement`
        for nor fetched after a resync (/display/announcements: the page plays those)."""
        return [c for c in self.call_answer
                if c not in self.announced and c not in self.display_late]

    async def close(self):
        self.stopping = True
        async def one(c):
            try:
                await asyncio.wait_for(c.disconnect(), 10)
            except Exception:  # noqa: BLE001 - going away anyway
                pass
        await asyncio.gather(*(one(c) for c in self.clients))


def check_database(url: str, run: Run) -> dict:
    """Against the database: every acknowledged ticket is there once, nothing was called
    twice, and the branch's display heard of every call (live or in a snapshot)."""
    import psycopg

    from support.topology import UNANNOUNCED_CALLS_SQL
    with psycopg.connect(url) as conn:
        keys = {k: (tid, bid) for k, tid, bid in conn.execute(
            "SELECT idempotency_key, id, branch_id FROM tickets WHERE idempotency_key LIKE 'nat-%'")}
        called = conn.execute(
            "SELECT e.branch_id, t.code, count(*) FROM events e JOIN tickets t "
            "ON t.id = e.ticket_id WHERE e.type = 'ticket_called' "
            "GROUP BY e.branch_id, t.code").fetchall()
        # the voice, in the database: a call or recall with no announcement row was
        # never said by any process
        unsaid = conn.execute(UNANNOUNCED_CALLS_SQL).fetchone()[0]
        statuses = Tally(s for (s,) in conn.execute(
            "SELECT status FROM tickets WHERE idempotency_key LIKE 'nat-%'"))
    lost = [k for k, tid in run.acked.items() if keys.get(k, (None,))[0] != tid]
    unacked_issued = sum(1 for k in run.unacked if k in keys)
    called_twice = sum(1 for _b, _t, n in called if n > 1)
    db_calls = {(b, t) for b, t, _n in called}
    display_missed = sorted(c for c in db_calls if c not in run.display_live
                            and c not in run.display_snap and c not in run.display_late)
    heard_late = sum(1 for c in db_calls if c not in run.display_live
                     and c not in run.display_snap and c in run.display_late)
    answered_not_in_db = [c for c in run.call_answer if c not in db_calls]
    return {"tickets_acked": len(run.acked), "tickets_in_db": len(keys),
            "tickets_lost": len(lost), "taps_never_acked": len(run.unacked),
            "taps_never_acked_but_issued": unacked_issued,
            "called_in_db": len(db_calls), "called_twice": called_twice,
            "calls_without_announcement_in_db": unsaid,
            "calls_answered_not_in_db": len(answered_not_in_db),
            "display_missed_calls": len(display_missed),
            # not live, not in the snapshot after a reconnect: announced late, as the page
            # does with /display/announcements
            "display_heard_late": heard_late,
            "display_duplicate_events": run.display_dups,
            "statuses_at_end": dict(statuses)}


def writer_stats(log: Path) -> dict | None:
    """The last "writer stats" line a server process logged (commands/writer.py)."""
    last = None
    try:
        for line in log.read_text(errors="replace").splitlines():
            if "tabour.writer: writer stats " in line:
                last = line.split("writer stats ", 1)[1]
    except OSError:
        return None
    return json.loads(last) if last else None


def one_run(plan, prep, template, work: Path, speedup: float, seconds: float,
            kill: bool = False) -> dict:
    from support.topology import Topology
    name = f"tabour_national_{uuid.uuid4().hex[:8]}"
    with _pg() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = db_url(name)
    topo = Topology(work, url, processes=3)
    try:
        topo.start(migrate_first=False)
        victim = topo.servers[1]
        groups = {**{f"server {i + 1}": [s.pid] for i, s in enumerate(topo.servers)},
                  "nginx": [topo.nginx.proc.pid], "generator": [os.getpid()]}
        if PG["postmaster"]:
            groups["postgres"] = [PG["postmaster"]]
        # a server's children count with it: its forecast helper process
        # (readmodel/forecast_worker.py) simulates every branch it holds
        meter = Meter(groups, parents=("nginx", "postgres",
                                       *(f"server {i + 1}" for i in range(len(topo.servers)))),
                      by_name=("redis-server",) if PG["postmaster"]
                      else ("postgres", "redis-server"))
        run = Run(topo.url, plan, prep, speedup, seconds, kill=victim.kill9 if kill else None)

        async def main():
            try:
                return await run.go(meter)
            finally:
                await run.close()
        t0 = time.monotonic()
        extra = asyncio.run(main())
        wall = time.monotonic() - t0
        db = check_database(url, run)
    finally:
        topo.stop()
        with _pg() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    writers = {f"server {i + 1}": writer_stats(s.log_path) for i, s in enumerate(topo.servers)}
    processes = meter.result()
    server_cpu = sum(v["cpu_s"] for k, v in processes.items() if k.startswith("server "))
    commands = sum((w or {}).get("commands", 0) for w in writers.values())
    unannounced = run.unannounced()
    lat = [(run.display_live[c] - t) * 1000 for c, t in run.call_answer.items()
           if c in run.display_live]
    out = {
        "speedup_x": speedup,
        "replayed_minutes_of_busiest_hour": round(min(60.0, seconds * speedup / 60), 1),
        "wall_s": round(wall, 1), "connect_clients_s": round(extra["connect_s"], 1),
        "clients": len(run.clients),
        # the visitors waiting when the hour starts whom idle counters called before it
        # (Run.settle; not measured)
        "calls_before_the_hour": extra.get("settled"),
        "call_to_display_ms": summary(lat),
        # without the run's first 10 s (what a start still carries: clients just
        # connected, caches cold), for reading; the run's ok is on the figure above
        "call_to_display_ms_after_10s": summary(
            (run.display_live[c] - t) * 1000 for c, t in run.call_answer.items()
            if c in run.display_live and t - run.started_at >= STEADY_AFTER_S),
        "call_to_display_ms_display_first": sum(1 for v in lat if v < 0),
        # the agent's click to the wall display: call-next's own time included
        # the voice: call-next's answer to the display's `announcement` (its audio made);
        # calls never announced during the run (and the 3 s after it; after a kill -9,
        # KILL_ANNOUNCE_WAIT_S more for the calls the dead process had not said)
        "call_to_announcement_ms": summary((run.announced[c] - t) * 1000
                                           for c, t in run.call_answer.items()
                                           if c in run.announced),
        # not live and not in what the display page fetches after a reconnect and plays
        # (/display/announcements: an announcement made while it was away)
        "calls_not_announced": len(unannounced),
        # the first few never announced: (branch, code, whether the branch's display
        # resynced during the run, seconds from the kill (if any) to the call's answer)
        "calls_not_announced_first": [
            [b, code, b in run.display_resynced,
             round(run.call_answer[(b, code)] - run.killed_at, 1)
             if run.killed_at is not None else None]
            for b, code in sorted(unannounced, key=run.call_answer.get)[:10]],
        "calls_announced_to_a_resync": sum(1 for c in run.call_answer
                                           if c not in run.announced and c in run.display_late),
        "calls_announced_after_the_run": sum(1 for c in run.call_answer
                                             if run.announced.get(c, 0) > run.ended_at),
        "click_to_display_ms": summary((run.display_live[c] - t) * 1000
                                       for c, t in run.call_sent.items()
                                       if c in run.display_live),
        "issue_ms": summary(run.issue_ms), "call_next_ms": summary(run.call_ms),
        "issue_per_s": round(len(run.acked) / seconds, 1),
        "calls_per_s": round(len(run.call_answer) / seconds, 1),
        "generator_lag_ms": summary(run.lag_ms),
        "generator_loop_lag_ms": summary(run.loop_lag_ms),
        "failed_requests": dict(run.failures),
        # snapshots beyond each client's first (a socket that reconnected), per kind
        "resnapshots": dict(run.snapshots),
        "disconnects": dict(run.disconnects),
        "socket_events_to_kiosks_and_counters": run.events_received,
        "processes": processes,
        # CPU, not wall time (the machine is shared): the server processes' (with their
        # forecast helpers) CPU over the run per acknowledged ticket and per command
        "server_cpu_ms_per_acked_ticket": round(1000 * server_cpu / len(run.acked), 1)
        if run.acked else None,
        "server_cpu_ms_per_command": round(1000 * server_cpu / commands, 2) if commands else None,
        # each process's commands: how many, how many ran under the branch lock, lost
        # races (stale: each one a retry) and commands refused after too many
        "writer": writers,
        **db,
    }
    if kill:
        out["kill9"] = {"process": "server 2", "at_s": round(seconds / 2, 1),
                        "resnapshots": dict(run.snapshots),
                        "reconnect_s": summary(run.reconnect_s)}
    out["ok"] = (lat != [] and (out["call_to_display_ms"].get("p99")
                                or out["call_to_display_ms"].get("max")) <= P99_LIMIT_MS
                 and db["tickets_lost"] == 0 and db["called_twice"] == 0
                 and db["display_missed_calls"] == 0 and db["taps_never_acked"] == 0
                 and run.display_dups == 0  # a call heard twice is announced twice
                 and not run.failures.get("socket never connected"))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--speedups", default="2,3,5,10,20,40",
                    help="speed-ups to try, in increasing order (stops at the first that fails)")
    ap.add_argument("--seconds", type=float, default=60.0, help="wall seconds per run")
    ap.add_argument("--branches", type=int, default=BRANCHES)
    ap.add_argument("--no-kill", action="store_true", help="skip the kill -9 run")
    ap.add_argument("--shared-pg", action="store_true",
                    help=f"use {PG_ADMIN} (TABOUR_TOPOLOGY_PG) instead of a private cluster")
    args = ap.parse_args(argv)
    import logging
    import signal
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(143))  # clean up as on Ctrl+C
    for name in ("engineio.client", "socketio.client", "asyncio"):  # reconnects are counted
        logging.getLogger(name).setLevel(logging.CRITICAL)
    speedups = [float(x) for x in args.speedups.split(",") if x.strip()]
    (ROOT / "var").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-national-", dir=ROOT / "var"))

    def say(msg):
        print(f"bench-national: {msg}", file=sys.stderr, flush=True)

    cluster = None
    if not args.shared_pg:
        say("a private PostgreSQL cluster (initdb) ...")
        cluster = private_cluster(work)
        PG["admin"], PG["postmaster"] = cluster.url("postgres"), cluster.postmaster()
    try:
        return _main(args, speedups, work, say)
    finally:
        if cluster is not None:
            cluster.destroy()


def _main(args, speedups, work, say) -> int:
    t_all = time.monotonic()
    say(f"simulating {args.branches} branches' days (Ciw) ...")
    plan = plan_network(args.branches)
    config = work / "branches.toml"
    write_config(plan, config)
    os.environ["TABOUR_CONFIG"] = str(config)  # the server processes seed from it
    template = f"tabour_national_tmpl_{os.getpid()}"
    say("migrating, seeding, opening counters (template database) ...")
    prep = prepare_template(plan, work, template)
    result = {"national": {"branches": len(plan["branches"]),
                           "counters": sum(6 * b["groups"] for b in plan["branches"]),
                           "tickets_per_day": sum(b["tickets_per_day"] for b in plan["branches"]),
                           "branch_tickets_per_day": [
                               min(b["tickets_per_day"] for b in plan["branches"]),
                               max(b["tickets_per_day"] for b in plan["branches"])],
                           "busiest_hour": f"{8 + plan['busiest_hour']:02d}:00",
                           "busiest_hour_tickets": sum(len(b["arrivals"])
                                                       for b in plan["branches"]),
                           "waiting_at_its_start": sum(len(b["waiting"])
                                                       for b in plan["branches"]),
                           "counters_busy_at_its_start": sum(len(b["busy_s"])
                                                             for b in plan["branches"]),
                           "runs": []}}
    nat = result["national"]
    best = None
    try:
        for i, x in enumerate(speedups):
            say(f"run at {x:g}x for {args.seconds:g} s ...")
            r = one_run(plan, prep, template, work / f"run-{i + 1}", x, args.seconds)
            nat["runs"].append(r)
            say(f"  {x:g}x: call->display {r['call_to_display_ms']}, ok={r['ok']}")
            if not r["ok"]:
                if i == 0 and x > 1:  # not even the first: does real time hold?
                    say(f"run at 1x for {args.seconds:g} s (the first speed-up failed) ...")
                    r1 = one_run(plan, prep, template, work / "run-1x", 1.0, args.seconds)
                    nat["runs"].append(r1)
                    say(f"  1x: call->display {r1['call_to_display_ms']}, ok={r1['ok']}")
                    best = 1.0 if r1["ok"] else None
                break
            best = x
        nat["national_speedup_x"] = best
        if not args.no_kill:
            x = best or min(r["speedup_x"] for r in nat["runs"])  # none held: the gentlest
            say(f"run at {x:g}x with kill -9 of one server process midway ...")
            nat["kill9_run"] = one_run(plan, prep, template, work / "run-kill", x, args.seconds,
                                       kill=True)
    finally:
        with _pg() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
    result["national_speedup_x"] = best
    result["bench_seconds"] = round(time.monotonic() - t_all, 1)
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                         "loadavg_at_end": os.getloadavg(),
                         "cpu_yardstick": cpu_yardstick(),
                         "postgres": "shared local server" if args.shared_pg
                         else "private cluster (fsync on, max_connections 300)",
                         "note": "2 cores shared by PostgreSQL, Redis, nginx, the 3 server "
                                 "processes, the generator and other sessions' work"}
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "national.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
