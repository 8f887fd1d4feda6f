"""Scaled-out mode: two server processes on PostgreSQL share one queue through
Redis; a call made on one reaches a display connected to the other."""
from __future__ import annotations

import queue
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


def test_call_on_one_process_reaches_a_display_on_the_other(pg_databases, redis_url, tmp_path):
    db = pg_databases.new()
    env = {"TABOUR_MESSAGE_QUEUE": redis_url,
           "TABOUR_MESSAGE_QUEUE_CHANNEL": f"tabour-test-{uuid.uuid4().hex[:8]}"}
    a = ServerProcess(db, tmp_path / "a.log", PASSWORD, **env).start()
    b = ServerProcess(db, tmp_path / "b.log", PASSWORD, **env).start()
    client = socketio.Client(reconnection=False)
    try:
        token = a.token()
        display = requests.post(f"{a.url}/api/v1/devices", headers=auth(token), timeout=5,
                                json={"role": "display", "name": "hall"}).json()["token"]
        calls: queue.Queue = queue.Queue()
        snapshots: queue.Queue = queue.Queue()
        client.on("ticket_called", calls.put)
        client.on("snapshot", snapshots.put)
        client.connect(b.url, auth={"token": display}, transports=["websocket"], wait_timeout=10)
        snapshots.get(timeout=5)

        requests.post(f"{a.url}/api/v1/counters/2/open", headers=auth(token), timeout=5)
        ticket = requests.post(f"{b.url}/api/v1/tickets", headers=auth(token), timeout=5,
                               json={"service": "B", "language": "ar"}).json()
        called = requests.post(f"{a.url}/api/v1/counters/2/call-next", headers=auth(token),
                               timeout=5).json()
        assert called["code"] == ticket["code"]
        got = calls.get(timeout=5)
        assert got["code"] == ticket["code"] and got["counter"] == 2
        # and the other way round: a call made on B reaches a display on B too
        requests.post(f"{b.url}/api/v1/counters/2/start", headers=auth(token), timeout=5)
        requests.post(f"{b.url}/api/v1/counters/2/finish", headers=auth(token), timeout=5,
                      json={"outcome": "served"})
        t2 = requests.post(f"{a.url}/api/v1/tickets", headers=auth(token), timeout=5,
                           json={"service": "A"}).json()
        requests.post(f"{b.url}/api/v1/counters/2/call-next", headers=auth(token), timeout=5)
        assert calls.get(timeout=5)["code"] == t2["code"]
    finally:
        client.disconnect()
        a.stop()
        b.stop()
