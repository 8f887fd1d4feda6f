"""Scaled-out mode: two server processes on PostgreSQL share one queue through
Redis. Both ways across the processes: calls, queue summaries, announcements,
printer state and each process's own read model (what its routes answer)."""
from __future__ import annotations

import queue
import time
import uuid

import pytest
import redis
import requests
import socketio

from support.server import ServerProcess

PASSWORD = "scaled-admin-pass"


@pytest.fixture
def redis_url():
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {url} ({exc}): .ci/run starts it")
    return url


def auth(token):
    return {"Authorization": f"Bearer {token}"}


class Watcher:
    """A Socket.IO client that keeps every event it receives, by name."""

    def __init__(self, url: str, token: str, **extra):
        self.events: dict[str, queue.Queue] = {}
        self.seen: list[tuple[str, dict]] = []  # every event, in order, never consumed
        self.client = socketio.Client(reconnection=False)
        for name in ("snapshot", "ticket_called", "queue_changed", "announcement",
                     "printer_changed"):
            self.events[name] = queue.Queue()
            self.client.on(name, self._keeper(name))
        self.client.connect(url, auth={"token": token, **extra}, transports=["websocket"],
                            wait_timeout=10)
        self.get("snapshot")

    def _keeper(self, name: str):
        def keep(payload):
            self.seen.append((name, payload))
            self.events[name].put(payload)
        return keep

    def get(self, name: str, predicate=lambda p: True, timeout: float = 8.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching {name!r} within {timeout}s")
            try:
                payload = self.events[name].get(timeout=left)
            except queue.Empty:
                continue
            if predicate(payload):
                return payload

    def close(self):
        self.client.disconnect()


def waiting(summary: dict, prefix: str) -> int:
    return next(s for s in summary["services"] if s["prefix"] == prefix)["waiting"]


def test_two_processes_share_calls_summaries_announcements_and_printers(
        pg_databases, redis_url, tmp_path):
    db = pg_databases.new()
    env = {"TABOUR_MESSAGE_QUEUE": redis_url, "TABOUR_AGENT": "0",
           "TABOUR_MESSAGE_QUEUE_CHANNEL": f"tabour-test-{uuid.uuid4().hex[:8]}"}
    a = ServerProcess(db, tmp_path / "a.log", PASSWORD, **env).start()
    b = ServerProcess(db, tmp_path / "b.log", PASSWORD, **env).start()
    watchers = []
    try:
        token = a.token()

        def device(role, name):
            return requests.post(f"{a.url}/api/v1/devices", headers=auth(token), timeout=5,
                                 json={"role": role, "name": name}).json()["token"]

        on_a = Watcher(a.url, device("display", "tv-a"))
        on_b = Watcher(b.url, device("display", "tv-b"))
        kiosk_b = Watcher(b.url, device("kiosk", "kiosk-b"))
        watchers += [on_a, on_b, kiosk_b]
        for url in (a.url, b.url):
            requests.post(f"{url}/api/v1/counters/2/open", headers=auth(token), timeout=5)

        # a ticket issued on A: B's displays get the summary, B's own routes count it
        t1 = requests.post(f"{a.url}/api/v1/tickets", headers=auth(token), timeout=5,
                           json={"service": "B", "language": "ar"}).json()
        on_b.get("queue_changed", lambda s: waiting(s, "B") == 1)
        services_b = requests.get(f"{b.url}/api/v1/services", headers=auth(token),
                                  timeout=5).json()["services"]
        assert next(s for s in services_b if s["prefix"] == "B")["waiting"] == 1

        # called on B (from B's read model): the display on A gets the call, the summary
        # and the announcement made by B
        called = requests.post(f"{b.url}/api/v1/counters/2/call-next", headers=auth(token),
                               timeout=5).json()
        assert called["code"] == t1["code"]
        assert on_a.get("ticket_called")["code"] == t1["code"]
        on_a.get("queue_changed", lambda s: waiting(s, "B") == 0)
        ann = on_a.get("announcement", timeout=20)
        assert ann["code"] == t1["code"] and ann["counter"] == 2

        # the other way: finished on A, a new ticket on B, called on A, seen on B
        requests.post(f"{a.url}/api/v1/counters/2/start", headers=auth(token), timeout=5)
        r = requests.post(f"{a.url}/api/v1/counters/2/finish", headers=auth(token), timeout=5,
                          json={"outcome": "served"})
        assert r.status_code == 200, r.text
        t2 = requests.post(f"{b.url}/api/v1/tickets", headers=auth(token), timeout=5,
                           json={"service": "A"}).json()
        on_a.get("queue_changed", lambda s: waiting(s, "A") == 1)
        assert requests.post(f"{a.url}/api/v1/counters/2/call-next", headers=auth(token),
                             timeout=5).json()["code"] == t2["code"]
        assert on_b.get("ticket_called", lambda c: c["code"] == t2["code"])["counter"] == 2
        assert on_b.get("announcement", lambda x: x["code"] == t2["code"], timeout=20)

        # a printer agent on A runs out of paper: a kiosk on B hears it, and B says so
        agent = socketio.Client(reconnection=False)
        agent.connect(a.url, auth={"token": device("printer", "hall-printer")},
                      transports=["websocket"], wait_timeout=10)
        assert agent.call("printer_status", {"state": "paper_out", "detail": "roll empty"},
                          timeout=5)["ok"]
        kiosk_b.get("printer_changed", lambda p: p["name"] == "hall-printer"
                    and p["state"] == "paper_out")
        printers_b = requests.get(f"{b.url}/api/v1/printers", headers=auth(token),
                                  timeout=5).json()["printers"]
        hall = next(p for p in printers_b if p["name"] == "hall-printer")
        assert hall["state"] == "paper_out" and hall["connected"] is True
        agent.disconnect()
        kiosk_b.get("printer_changed", lambda p: p["name"] == "hall-printer"
                    and not p["connected"])
        deadline = time.monotonic() + 5
        while True:
            hall = next(p for p in requests.get(
                f"{b.url}/api/v1/printers", headers=auth(token), timeout=5).json()["printers"]
                if p["name"] == "hall-printer")
            if not hall["connected"] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert hall["connected"] is False and hall["state"] == "offline"

        # each display heard each call once, live: a process never delivers its own emit
        # a second time when it comes back over Redis (a bundle of one emit did, so the
        # hall TV announced the ticket twice)
        time.sleep(1.0)
        for w in (on_a, on_b):
            for name in ("ticket_called", "announcement"):
                codes = [p["code"] for n, p in w.seen if n == name]
                assert sorted(codes) == sorted([t1["code"], t2["code"]]), (name, codes)
    finally:
        for w in watchers:
            w.close()
        a.stop()
        b.stop()


def test_an_agent_whose_process_dies_is_gone_for_every_process(pg_databases, redis_url,
                                                                 tmp_path):
    """The process holding a printer agent's socket is killed (no goodbye): once the
    agent has been silent past the presence timeout, both processes (here: the one
    left) say the printer is offline, and the kiosks are told."""
    db = pg_databases.new()
    env = {"TABOUR_MESSAGE_QUEUE": redis_url, "TABOUR_AGENT": "0", "TABOUR_LEASE_S": "3",
           "TABOUR_PRINTER_PRESENCE_S": "4",
           "TABOUR_MESSAGE_QUEUE_CHANNEL": f"tabour-test-{uuid.uuid4().hex[:8]}"}
    a = ServerProcess(db, tmp_path / "a.log", PASSWORD, **env).start()
    b = ServerProcess(db, tmp_path / "b.log", PASSWORD, **env).start()
    agent = socketio.Client(reconnection=False)
    kiosk = None
    try:
        token = a.token()
        printer = requests.post(f"{a.url}/api/v1/devices", headers=auth(token), timeout=5,
                                json={"role": "printer", "name": "hall-printer"}).json()["token"]
        kiosk_token = requests.post(f"{a.url}/api/v1/devices", headers=auth(token), timeout=5,
                                    json={"role": "kiosk", "name": "k"}).json()["token"]
        kiosk = Watcher(b.url, kiosk_token)
        agent.connect(a.url, auth={"token": printer}, transports=["websocket"], wait_timeout=10)
        assert agent.call("printer_status", {"state": "online", "detail": ""}, timeout=5)["ok"]

        def hall(url):
            return next(p for p in requests.get(f"{url}/api/v1/printers", headers=auth(token),
                                                timeout=5).json()["printers"]
                        if p["name"] == "hall-printer")
        assert hall(a.url)["connected"] and hall(b.url)["connected"]
        a.kill9()  # the agent's socket dies with it, silently
        gone = kiosk.get("printer_changed", lambda p: p["name"] == "hall-printer"
                         and not p["connected"], timeout=30)
        assert gone["state"] == "offline"
        assert hall(b.url)["connected"] is False and hall(b.url)["state"] == "offline"
    finally:
        if kiosk is not None:
            kiosk.close()
        try:
            agent.disconnect()
        except Exception:
            pass
        b.stop()
        if a.proc.poll() is None:
            a.stop()
