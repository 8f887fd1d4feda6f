"""The write path's figures, on one server process (gevent) per database:

- ``issue_per_s``: 8 keep-alive clients issue in ONE branch for 8 s (after a 1 s
  warm-up, and once the server's helpers are done with the calls before:
  ``helpers_quiet_after_s``), the queue growing past a thousand; the rate per
  2-second window shows whether it stays flat as the queue deepens; ``server_cpu_ms_per_ticket``: the server
  process's CPU per ticket over that run (other load on the machine changes it least);
- ``served_per_s``: then an agent at each of the 5 counters that serve A or B calls,
  starts and finishes in that branch for 8 s (its queue deep), with its console
  connected (a real Socket.IO client, as console.js: it shows its counter's pushes and
  asks no snapshot); the rate per 2-second window, and ``server_cpu_ms_per_served``
  (the three commands of one visitor, and the pushes to the consoles);
- ``issue_ms`` / ``call_next_ms`` / ``kiosk_issue_ms`` at 10 and at 2,000 waiting:
  one client, one request at a time (issue, then call-next + start + finish, so the
  depth stays put), 200 samples each after 20 warm-up rounds;
- ``sql_statements``: statements run by one request with 150 waiting (counted in
  process with an SQLAlchemy listener, the fan-out's summary included).
"""
from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench.stats import summary
from support.server import ServerProcess

PASSWORD = "bench-admin-password"
CLIENTS = 8
SECONDS = 8.0
WARM_S = 1.0
SAMPLES = 200


def _server(url: str, work: Path) -> ServerProcess:
    return ServerProcess(url, work / "server.log", PASSWORD, TABOUR_AGENT="0",
                         TABOUR_VAR_DIR=str(work / "var")).start()


def _clients(server: ServerProcess, token: str, units: list, what: str) -> dict:
    """One keep-alive client a callable of ``units``: each does one unit of work with
    its session (``unit(session)`` -> None, or what went wrong), again and again for
    ``SECONDS`` after ``WARM_S``. Returns the units done a second over ``SECONDS``, per
    2-second window, how many in all (warm-up included) and the server's CPU a unit."""
    stamps: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(len(units) + 1)
    stop_at = [0.0]

    def client(unit):
        with requests.Session() as s:
            s.headers["Authorization"] = f"Bearer {token}"
            start.wait()
            while time.perf_counter() < stop_at[0]:
                wrong = unit(s)
                if wrong is not None:
                    errors.append(wrong)
                    return
                with lock:
                    stamps.append(time.perf_counter())

    threads = [threading.Thread(target=client, args=(u,)) for u in units]
    for th in threads:
        th.start()
    t0 = time.perf_counter()
    stop_at[0] = t0 + WARM_S + SECONDS
    cpu0 = _cpu_s(server.pid)
    start.wait()
    for th in threads:
        th.join()
    cpu = _cpu_s(server.pid) - cpu0
    if errors:
        raise RuntimeError(f"{what} failed: {errors[0]}")
    measured = [s for s in stamps if s >= t0 + WARM_S]
    windows = [sum(1 for s in measured if t0 + WARM_S + w <= s < t0 + WARM_S + w + 2) / 2
               for w in range(0, int(SECONDS), 2)]
    # the server process's CPU (user + system) per unit over the whole run: what other
    # load on the machine changes least (wall rates are shared)
    return {"per_s": round(len(measured) / SECONDS, 1), "windows": [round(w) for w in windows],
            "done": len(stamps), "cpu_ms": round(1000 * cpu / max(1, len(stamps)), 2)}


def _rate(server: ServerProcess, token: str) -> dict:
    def issuer():
        n = [0]

        def issue(s):
            r = s.post(f"{server.url}/api/v1/tickets",
                       json={"service": "AB"[n[0] % 2], "language": "ar"})
            n[0] += 1
            return None if r.status_code == 201 else r.text[:300]
        return issue

    got = _clients(server, token, [issuer() for _ in range(CLIENTS)], "issuing")
    return {"issue_per_s": got["per_s"], "issue_per_s_windows": got["windows"],
            "queue_after": got["done"], "clients": CLIENTS,
            "server_cpu_ms_per_ticket": got["cpu_ms"]}


SERVING = (1, 2, 3, 4, 6)  # the counters of config/branches.toml that serve A or B


def _serve_rate(server: ServerProcess, token: str) -> dict:
    """An agent at each counter that serves A or B, in ONE branch with a deep queue:
    call-next, start, finish, again, for ``SECONDS`` (after ``WARM_S``). The commands at
    a counter: on PostgreSQL each runs under the branch's lock (commands/writer.py)."""
    from support.sio import LiveClient
    headers = {"Authorization": f"Bearer {token}"}
    for n in SERVING:
        requests.post(f"{server.url}/api/v1/counters/{n}/open", headers=headers, json={},
                      timeout=10)
    consoles = [LiveClient(server.url, token, view="counter", counter=n) for n in SERVING]
    try:
        got = _clients(server, token, [_agent(server, n) for n in SERVING], "serving")
        pushes = sum(c.events["counter_queue"].qsize() for c in consoles)
    finally:
        for c in consoles:
            c.client.disconnect()
    return {"served_per_s": got["per_s"], "served_per_s_windows": got["windows"],
            "agents": len(SERVING), "counter_queue_pushes": pushes,
            # call-next + start + finish: the server's CPU per visitor served
            "server_cpu_ms_per_served": got["cpu_ms"]}


def _agent(server: ServerProcess, n: int):
    api = f"{server.url}/api/v1/counters/{n}"

    def serve(s):
        for step, body in (("call-next", {}), ("start", {}), ("finish", {"outcome": "served"})):
            r = s.post(f"{api}/{step}", json=body)
            if r.status_code != 200:
                return f"{step} at counter {n}: {r.status_code} {r.text[:200]}"
        return None
    return serve


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                kids = [int(k) for k in (task / "children").read_text().split()]
                out += kids
                todo += kids
        except OSError:  # gone meanwhile
            continue
    return out


QUIET_WINDOW_S = 2.0


def _quiet(server: ServerProcess, limit_s: float = 60.0) -> float:
    """Wait until the server and its helper processes (voice and its espeak-ng runs,
    forecast) use under 5 % of a core over ``QUIET_WINDOW_S`` and start no new run;
    returns how long that took (``limit_s`` at most)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        kids = [server.pid, *_descendants(server.pid)]
        before = sum(_tree_cpu_s(k) or 0.0 for k in kids)
        time.sleep(QUIET_WINDOW_S)
        after = [_tree_cpu_s(k) for k in kids]
        if None in after:  # one ended meanwhile: its time is its parent's now, look again
            continue
        if sum(after) - before < 0.05 * QUIET_WINDOW_S \
                and set(_descendants(server.pid)) <= set(kids[1:]):
            break
    return round(time.monotonic() - t0, 1)


def _tree_cpu_s(pid: int) -> float | None:
    """A process's CPU with its children's that ended (each espeak-ng run is one);
    None when it is gone."""
    try:
        return _cpu_s(pid, ended_children=True)
    except OSError:
        return None


def _cpu_s(pid: int, ended_children: bool = False) -> float:
    """utime + stime of a process (with ``ended_children``, its waited-for children's
    cutime + cstime too), in seconds (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15 if ended_children else 13]) \
        / os.sysconf("SC_CLK_TCK")


def _fill(server: ServerProcess, token: str, n: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}

    def client(k):
        with requests.Session() as s:
            s.headers.update(headers)
            for i in range(k):
                s.post(f"{server.url}/api/v1/tickets",
                       json={"service": "AB"[i % 2], "language": "fr"}).raise_for_status()
    per = n // CLIENTS
    threads = [threading.Thread(target=client, args=(per,)) for _ in range(CLIENTS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


def _loop(server: ServerProcess, token: str, kiosk_token: str) -> dict:
    """issue / kiosk tap / call-next latencies with the queue at its current depth."""
    api = f"{server.url}/api/v1"
    issue, kiosk, call = [], [], []
    with requests.Session() as s, requests.Session() as k:
        s.headers["Authorization"] = f"Bearer {token}"
        k.headers["Authorization"] = f"Bearer {kiosk_token}"
        for i in range(SAMPLES + 20):
            t0 = time.perf_counter()
            s.post(f"{api}/tickets", json={"service": "A", "language": "fr"}).raise_for_status()
            t1 = time.perf_counter()
            k.post(f"{api}/kiosk/tickets", json={"service": "B", "language": "ar",
                                                 "idempotency_key": f"bench-{time.time_ns()}"}
                   ).raise_for_status()
            t2 = time.perf_counter()
            for _ in range(2):  # two out, two in: the depth stays put
                c0 = time.perf_counter()
                r = s.post(f"{api}/counters/2/call-next", json={})
                c1 = time.perf_counter()
                if r.status_code != 200:
                    raise RuntimeError(f"call-next answered {r.status_code}: {r.text[:200]}")
                s.post(f"{api}/counters/2/start", json={}).raise_for_status()
                s.post(f"{api}/counters/2/finish", json={"outcome": "served"}).raise_for_status()
                if i >= 20:
                    call.append((c1 - c0) * 1000)
            if i >= 20:
                issue.append((t1 - t0) * 1000)
                kiosk.append((t2 - t1) * 1000)
    return {"issue_ms": summary(issue), "kiosk_issue_ms": summary(kiosk),
            "call_next_ms": summary(call)}


def measure_database(url: str, label: str, work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    server = _server(url, work)
    try:
        token = server.token()
        api = f"{server.url}/api/v1"
        h = {"Authorization": f"Bearer {token}"}
        for n in (1, 2, 3):
            requests.post(f"{api}/counters/{n}/open", headers=h, json={}, timeout=10)
        kiosk_token = requests.post(f"{api}/devices", headers=h, timeout=10,
                                    json={"role": "kiosk", "name": "bench kiosk"}).json()["token"]
        out = {"database": label}
        # depth 10: a short queue
        _fill(server, token, 8)
        out["depth_10"] = _loop(server, token, kiosk_token)
        # depth 2,000 in the same branch
        _fill(server, token, 2000)
        out["depth_2000"] = _loop(server, token, kiosk_token)
        # the depth loops' 440 calls, each a new number, leave the server's voice helper
        # saying them (espeak-ng, niced) for up to ~20 s: measured, that took ~25 % off
        # the issuing rate below when it overlapped (348 against 451-504 tickets/s on
        # PostgreSQL, 434-465 against 516-635 on SQLite). A branch's calls are spread
        # over its day, not 440 in 8 s: the rate is measured once the helpers are done
        out["helpers_quiet_after_s"] = _quiet(server)
        # throughput: 8 clients, the queue growing in one branch
        out.update(_rate(server, token))
        # serving: five agents in the same branch, the queue deep
        out.update(_serve_rate(server, token))
        return out
    finally:
        server.stop()


def statement_counts() -> dict:
    """Statements one request runs with 150 waiting (and the fan-out after it)."""
    from support.api import Api
    from support.app import ADMIN_PASSWORD, make_app
    from support.clock import FakeClock
    from support.sql_count import counting
    with tempfile.TemporaryDirectory() as d:
        app = make_app(f"sqlite:///{d}/count.sqlite", FakeClock())
        api = Api(app).login("admin", ADMIN_PASSWORD)
        api.open(1)
        api.open(2)
        code = api.post("/kiosk/pairing-codes", {"kiosk_name": "k"}).get_json()["code"]
        kiosk = api.as_token(api.as_token(None).post("/kiosk/pair", {"code": code})
                             .get_json()["token"])
        kiosk.post("/kiosk/tickets", {"service": "A", "language": "ar",
                                      "idempotency_key": "warm-up-1"})
        for _ in range(150):
            api.issue("A")
        engine = app.extensions["tabour"].db.engine
        counts = {}
        for name, call in (
                ("kiosk_tap", lambda: kiosk.post("/kiosk/tickets", {
                    "service": "A", "language": "ar", "idempotency_key": "tap-000001"})),
                ("post_tickets", lambda: api.post("/tickets", {"service": "A",
                                                               "language": "ar"})),
                ("call_next", lambda: api.post("/counters/1/call-next"))):
            with counting(engine) as seen:
                r = call()
                time.sleep(0.15)  # the coalesced summary of the fan-out runs in the window
            assert r.status_code in (200, 201), r.get_json()
            counts[name] = len(seen)
        app.extensions["tabour"].db.dispose()
    return {"sql_statements": counts, "sql_statements_before": {
        "kiosk_tap": 47 + 8, "post_tickets": 18, "call_next": 20}}
