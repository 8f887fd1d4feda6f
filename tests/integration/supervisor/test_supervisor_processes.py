"""Supervisors across server processes (PostgreSQL, Redis): a supervisor connected to one
process gets the rows of batches committed on the other (the committing process sends
them to the region's room), served today agrees whichever process finished the tickets,
and a socket asking for a branch outside its scope is refused with the code and message
(``connect_error``: what a real client gets)."""
from __future__ import annotations

import queue
import time
import uuid

import pytest
import requests
import socketio

from support.regions import CASA, RABAT, network_config
from support.server import ServerProcess

PASSWORD = "supervisor-admin-pass"


@pytest.fixture
def redis_url():
    import redis
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {url} ({exc})")
    return url


def auth(token):
    return {"Authorization": f"Bearer {token}"}


class Supervisor:
    def __init__(self, url, token, **extra):
        self.rows: queue.Queue = queue.Queue()
        self.snapshots: queue.Queue = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("supervisor_rows", self.rows.put)
        self.client.on("snapshot", self.snapshots.put)
        self.client.connect(url, auth={"token": token, "lang": "fr", **extra},
                            transports=["websocket"], wait_timeout=10)
        self.snapshot = self.snapshots.get(timeout=8)

    def row(self, branch, predicate, timeout=8.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching row of {branch} within {timeout}s")
            try:
                msg = self.rows.get(timeout=left)
            except queue.Empty:
                continue
            for r in msg["rows"]:
                if r["branch"] == branch and predicate(r):
                    return r


def test_rows_cross_processes_and_a_refusal_says_why(pg_databases, redis_url, tmp_path):
    db = pg_databases.new()
    env = {"TABOUR_MESSAGE_QUEUE": redis_url, "TABOUR_AGENT": "0",
           "TABOUR_MESSAGE_QUEUE_CHANNEL": f"tabour-test-{uuid.uuid4().hex[:8]}",
           "TABOUR_CONFIG": str(network_config(tmp_path))}
    a = ServerProcess(db, tmp_path / "a.log", PASSWORD, **env).start()
    b = ServerProcess(db, tmp_path / "b.log", PASSWORD, **env).start()
    clients = []
    try:
        admin = a.token()
        for name, scope in (("nour", {"national": True}), ("sara", {"regions": ["casa-settat"]})):
            r = requests.post(f"{a.url}/api/v1/admin/users", headers=auth(admin), timeout=10,
                              json={"username": name, "password": "password-123",
                                    "role": "supervisor", "scope": scope})
            assert r.status_code == 201, r.text
        nour = Supervisor(b.url, b.token("nour", "password-123"), view="supervisor")
        clients.append(nour.client)
        assert sorted(r["branch"] for r in nour.snapshot["rows"]) == sorted([CASA, RABAT])

        # the socket refusal a real client gets: the code and a message in its language
        refused = queue.Queue()
        sara = socketio.Client(reconnection=False)
        sara.on("connect_error", refused.put)
        with pytest.raises(socketio.exceptions.ConnectionError):
            sara.connect(b.url, auth={"token": b.token("sara", "password-123"), "lang": "fr",
                                      "view": "dashboard", "branch": RABAT},
                         transports=["websocket"], wait_timeout=10)
        err = refused.get(timeout=5)
        assert err["data"]["code"] == "out_of_scope" and RABAT in err["message"]
        assert "périmètre" in err["message"]

        # committed on A, seen by a supervisor on B
        for url in (a.url, b.url):
            requests.post(f"{url}/api/v1/counters/1/open", headers=auth(admin), timeout=5)
        requests.post(f"{a.url}/api/v1/counters/2/open", headers=auth(admin), timeout=5)
        for _ in range(2):
            r = requests.post(f"{a.url}/api/v1/tickets", headers=auth(admin), timeout=5,
                              json={"service": "A", "language": "fr"})
            assert r.status_code == 201, r.text
        nour.row(CASA, lambda r: r["waiting"] == 2 and r["counters_open"] == 2)

        # one served through B, one through A: each process's row counts both
        for url, n in ((b.url, 1), (a.url, 2)):
            assert requests.post(f"{url}/api/v1/counters/{n}/call-next", headers=auth(admin),
                                 timeout=5).status_code == 200
            requests.post(f"{url}/api/v1/counters/{n}/start", headers=auth(admin), timeout=5)
            r = requests.post(f"{url}/api/v1/counters/{n}/finish", headers=auth(admin),
                              timeout=5, json={"outcome": "served"})
            assert r.status_code == 200, r.text
            nour.row(CASA, lambda r, n=n: r["served"] == n)
        rows = {x["branch"]: x for x in requests.get(
            f"{b.url}/api/v1/supervisor", headers=auth(b.token("nour", "password-123")),
            timeout=5).json()["rows"]}
        assert rows[CASA]["served"] == 2 and rows[CASA]["waiting"] == 0
    finally:
        for c in clients:
            c.disconnect()
        a.stop()
        b.stop()
