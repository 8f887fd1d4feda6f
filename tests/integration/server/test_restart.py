"""kill -9 mid-day loses no acknowledged ticket; the live queue is rebuilt from the database.

What this proves: commit before acknowledge. Every ticket the server answered 201
for was committed before the answer left, so killing the process in the middle of
a stream of tickets loses none of them. It does not prove the commit reached the
disk: the operating system keeps what a killed process wrote, so the test would
pass with SQLite's synchronous=OFF too. The setting that makes a commit survive a
power cut is checked on every connection by
tests/integration/storage/test_durability.py."""
from __future__ import annotations

import threading
import time

import requests

from support.server import ServerProcess

PASSWORD = "restart-admin-pass"


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_kill_9_loses_no_committed_ticket(tmp_path):
    url = f"sqlite:///{tmp_path / 'tabour.sqlite'}"
    server = ServerProcess(url, tmp_path / "server.log", PASSWORD).start()
    token = server.token()
    assert requests.post(f"{server.url}/api/v1/counters/1/open", headers=auth(token),
                         timeout=5).status_code == 200
    acknowledged: list[dict] = []
    stop = threading.Event()

    def issue_forever():
        with requests.Session() as s:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    r = s.post(f"{server.url}/api/v1/tickets", headers=auth(token), timeout=2,
                               json={"service": "AB"[i % 2], "language": "fr"})
                except requests.RequestException:
                    continue
                if r.status_code == 201:
                    acknowledged.append(r.json())

    worker = threading.Thread(target=issue_forever)
    worker.start()
    deadline = time.monotonic() + 20
    while len(acknowledged) < 60 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill9()  # in the middle of the stream of tickets
    stop.set()
    worker.join(10)
    assert len(acknowledged) >= 60

    server = ServerProcess(url, tmp_path / "server.log", PASSWORD, port=server.port).start()
    try:
        token = server.token()
        for t in acknowledged:
            r = requests.get(f"{server.url}/api/v1/tickets/{t['id']}", headers=auth(token), timeout=5)
            assert r.status_code == 200, f"committed ticket {t['code']} lost"
            assert r.json()["code"] == t["code"] and r.json()["status"] == "waiting"
        # the live queue is what the database says, and the counter is still open
        services = {s["prefix"]: s for s in requests.get(
            f"{server.url}/api/v1/services", headers=auth(token), timeout=5).json()["services"]}
        a_codes = sorted(t["code"] for t in acknowledged if t["service"] == "A")
        assert services["A"]["waiting"] >= len(a_codes)
        counters = requests.get(f"{server.url}/api/v1/counters", headers=auth(token), timeout=5).json()
        assert counters["counters"][0]["state"] == "open"
        # calling continues in order, numbering continues without a gap or duplicate
        first = requests.post(f"{server.url}/api/v1/counters/1/call-next", headers=auth(token),
                              timeout=5).json()
        assert first["code"] == "A-001"
        new = requests.post(f"{server.url}/api/v1/tickets", headers=auth(token), timeout=5,
                            json={"service": "A"}).json()
        highest = max(int(c.split("-")[1]) for c in a_codes)
        assert int(new["code"].split("-")[1]) >= highest + 1
        codes = [requests.get(f"{server.url}/api/v1/tickets/{i}", headers=auth(token),
                              timeout=5).json()["code"] for i in range(1, new["id"] + 1)]
        assert len(codes) == len(set(codes)), "a code was given twice"
    finally:
        server.stop()
