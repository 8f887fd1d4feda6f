"""Redis (the processes' message queue) restarted: a PRIVATE redis-server on a free
port, never the shared one. The processes and their clients recover, and a call
made after Redis is back reaches displays on other processes.

What happens to emits made while Redis is down is measured and printed (run with
-s): a process still delivers its own emits to the clients connected to it; the
other processes never hear them. When Redis is back, every process asks every
client for a fresh snapshot ("resync", a few times while the processes' listeners
come back): the displays then show the calls they missed."""
from __future__ import annotations

import time

import pytest
import requests

from support.topology import Display, PrivateRedis, Topology, auth, close_all

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def call_once(topo, h) -> tuple[str, str, float]:
    """Issue, call, finish on counter 2: the call's code, the process that made it,
    how long the call took."""
    assert requests.post(f"{topo.url}/api/v1/tickets", headers=h, timeout=10,
                         json={"service": "B"}).status_code == 201
    t0 = time.monotonic()
    r = requests.post(f"{topo.url}/api/v1/counters/2/call-next", headers=h, timeout=10)
    took = time.monotonic() - t0
    assert r.status_code == 200, r.text
    tid = r.json()["id"]
    for step, body in (("start", {"ticket_id": tid}),
                       ("finish", {"ticket_id": tid, "outcome": "served"})):
        assert requests.post(f"{topo.url}/api/v1/counters/2/{step}", headers=h, json=body,
                             timeout=10).status_code == 200
    return r.json()["code"], r.headers["X-Tabour-Upstream"], took


def reached(displays, code, timeout):
    """The displays that show the call within timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(any(c["code"] == code for c in d.seen_calls) for d in displays):
            break
        time.sleep(0.05)
    return [d for d in displays if any(c["code"] == code for c in d.seen_calls)]


def test_redis_restart(pg_databases, tmp_path):
    r = PrivateRedis(tmp_path / "redis").start()
    displays = []
    try:
        with Topology(tmp_path / "topology", pg_databases.new(), redis_url=r.url) as topo:
            h = auth(topo.token())
            dtok = requests.post(f"{topo.url}/api/v1/devices", headers=h, timeout=5,
                                 json={"role": "display", "name": "hall"}).json()["token"]
            displays = [Display(topo.url, dtok, reconnection=True).connect() for _ in range(6)]
            assert len({d.upstream for d in displays}) >= 2
            assert requests.post(f"{topo.url}/api/v1/counters/2/open", headers=h,
                                 timeout=5).status_code == 200
            code, _, _ = call_once(topo, h)
            assert len(reached(displays, code, 5)) == 6

            r.stop()  # Redis gone
            down_at = time.monotonic()
            during = []
            for _ in range(4):
                code, caller, took = call_once(topo, h)
                got = reached(displays, code, 0.7)
                same = [d for d in displays if d.upstream == caller]
                during.append((code, len(got), len(same), took))
                # the caller's own clients still hear it: the process emits locally first
                assert set(map(id, same)) <= set(map(id, got))
            health = requests.get(f"{topo.url}/api/v1/health", timeout=5).status_code
            snapshots_before = [d.snapshots for d in displays]

            r.start()  # the same port, empty
            up_at = time.monotonic()
            first_full = None
            attempts = []
            while time.monotonic() - up_at < 30:
                code, caller, took = call_once(topo, h)
                got = reached(displays, code, 1.0)
                attempts.append(len(got))
                if len(got) == 6:
                    first_full = time.monotonic() - up_at
                    break
            # and it stays recovered: the next call reaches displays on every process
            code, caller, _ = call_once(topo, h)
            after = reached(displays, code, 5)
            # the calls made while Redis was down reach every display (a resync)
            missed = [c for c, *_ in during]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not all(
                    {c["code"] for c in d.seen_calls} >= set(missed) for d in displays):
                time.sleep(0.2)
            caught_up = [d for d in displays
                         if {c["code"] for c in d.seen_calls} >= set(missed)]

            print(f"\nRedis down {up_at - down_at:.1f}s. Calls made meanwhile reached "
                  + ", ".join(f"{n}/6 displays ({same} on the caller's process, call took "
                              f"{took * 1000:.0f} ms)" for _, n, same, took in during)
                  + f"; health during the outage {health}. After Redis came back, calls "
                  f"reached {attempts} displays until every process listened again "
                  f"({first_full if first_full is None else round(first_full, 1)} s); "
                  f"displays reconnected meanwhile: "
                  f"{sum(d.snapshots for d in displays) - sum(snapshots_before)}")
            print(f"displays that caught up on the calls made during the outage: "
                  f"{len(caught_up)}/6 (resyncs received: {[d.resyncs for d in displays]})")
            assert len(caught_up) == 6, "a display never showed a call made during the outage"
            assert health == 200  # the database is what health reports on
            assert first_full is not None, "calls never reached every display again"
            assert len(after) == 6
            assert any(d.upstream != caller for d in after)
            # a resync (at 1, 5, 15 and 45 s after Redis is back) makes a display
            # reconnect for a fresh snapshot: each ends connected, maybe a moment later
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not all(d.client.connected for d in displays):
                time.sleep(0.1)
            assert all(d.client.connected for d in displays)
    finally:
        close_all(displays)
        r.stop()
