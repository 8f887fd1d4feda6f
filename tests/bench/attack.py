"""Anonymous clients guessing passwords while the branch works (issue 12).

One real server process (gevent, SQLite) behind a pretend proxy
(``TABOUR_TRUSTED_PROXIES=1``: the bench writes ``X-Forwarded-For``). A kiosk issues
tickets and a counter calls the next one (then start, finish: the depth stays put),
one request at a time, from their own addresses:

- quiet: ``issue_p99_ms`` / ``call_next_p99_ms``;
- under attack: the same while 8 anonymous clients, each from its own address and in
  its own process (so their Python does not slow the measuring client's), send wrong
  passwords back to back from the moment the measurement starts (their first attempts
  are hashed, then they get 429s): ``under_attack_issue_p99_ms`` and
  ``under_attack_call_next_p99_ms``, how many attacker requests were answered 401
  (hashed) and 429 (refused before hashing).

The goal: under attack within 2x of quiet. A p99 needs >= 100 samples (else ``*_max_ms``).
"""
from __future__ import annotations

import multiprocessing as mp
import time
import uuid
from pathlib import Path

import requests

from bench.stats import summary
from support.server import ServerProcess

PASSWORD = "bench-admin-password"
ATTACKERS = 8
KIOSK_ADDRESS = "10.0.1.10"
COUNTER_ADDRESS = "10.0.2.20"


def _attacker(i: int, url: str, ready, go, stop, counts) -> None:
    """Wrong passwords back to back from 10.66.0.<i>: the admin account and random names."""
    headers = {"X-Forwarded-For": f"10.66.0.{i + 1}"}
    seen = {401: 0, 429: 0, "other": 0}
    with requests.Session() as s:
        s.get(f"{url}/api/v1/health", timeout=30)  # connected, imports done
        ready.put(i)
        go.wait()
        n = 0
        while not stop.is_set():
            name = "admin" if n % 2 else f"guess-{i}-{n}"
            try:
                r = s.post(f"{url}/api/v1/auth/token", headers=headers, timeout=30,
                           json={"username": name, "password": f"wrong-{n}"})
                seen[r.status_code if r.status_code in (401, 429) else "other"] += 1
            except requests.RequestException:
                seen["other"] += 1
            n += 1
    counts.put(seen)


def _loop(url: str, token: str, kiosk_token: str, samples: int, warm: int = 10) -> dict:
    """Kiosk issue, then call-next + start + finish at counter 2, one at a time."""
    api = f"{url}/api/v1"
    issue, call = [], []
    with requests.Session() as k, requests.Session() as c:
        k.headers.update({"Authorization": f"Bearer {kiosk_token}",
                          "X-Forwarded-For": KIOSK_ADDRESS})
        c.headers.update({"Authorization": f"Bearer {token}",
                          "X-Forwarded-For": COUNTER_ADDRESS})
        for i in range(samples + warm):
            t0 = time.perf_counter()
            r = k.post(f"{api}/kiosk/tickets", timeout=30, json={
                "service": "B", "language": "ar", "idempotency_key": uuid.uuid4().hex})
            t1 = time.perf_counter()
            if r.status_code != 201:
                raise RuntimeError(f"kiosk issue answered {r.status_code}: {r.text[:200]}")
            r = c.post(f"{api}/counters/2/call-next", json={}, timeout=30)
            t2 = time.perf_counter()
            if r.status_code != 200:
                raise RuntimeError(f"call-next answered {r.status_code}: {r.text[:200]}")
            c.post(f"{api}/counters/2/start", json={}, timeout=30).raise_for_status()
            c.post(f"{api}/counters/2/finish", json={"outcome": "served"},
                   timeout=30).raise_for_status()
            if i >= warm:
                issue.append((t1 - t0) * 1000)
                call.append((t2 - t1) * 1000)
    return {"issue": issue, "call": call}


def _figure(name: str, values: list[float]) -> dict:
    s = summary(values)
    out = {f"{name}_median_ms": s.get("median"), f"{name}_n": s["n"]}
    if "p99" in s:
        out[f"{name}_p99_ms"] = s["p99"]
    else:
        out[f"{name}_max_ms"] = s["max"]
    return out


def measure_attack(work: Path, samples: int = 150, attackers: int = ATTACKERS) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    server = ServerProcess(f"sqlite:///{work / 'attack.sqlite'}", work / "server.log",
                           PASSWORD, TABOUR_AGENT="0", TABOUR_TRUSTED_PROXIES="1",
                           TABOUR_VAR_DIR=str(work / "var")).start()
    try:
        token = server.token()
        api = f"{server.url}/api/v1"
        h = {"Authorization": f"Bearer {token}"}
        for n in (1, 2, 3):
            requests.post(f"{api}/counters/{n}/open", headers=h, json={}, timeout=10)
        kiosk_token = requests.post(f"{api}/devices", headers=h, timeout=10, json={
            "role": "kiosk", "name": "bench kiosk"}).json()["token"]
        for i in range(10):  # a short queue
            requests.post(f"{api}/tickets", headers=h, timeout=10,
                          json={"service": "AB"[i % 2], "language": "fr"}).raise_for_status()

        # an agent's browser that signed in before the attack: it holds the device cookie
        staff = requests.Session()
        staff.headers["X-Forwarded-For"] = COUNTER_ADDRESS
        staff.post(f"{api}/auth/token", timeout=30, json={
            "username": "admin", "password": PASSWORD}).raise_for_status()

        quiet = _loop(server.url, token, kiosk_token, samples)

        # the attackers' processes start (imports, connections) before the measurement
        ctx = mp.get_context("spawn")
        ready, go, stop, counts = ctx.Queue(), ctx.Event(), ctx.Event(), ctx.Queue()
        procs = [ctx.Process(target=_attacker, args=(i, server.url, ready, go, stop, counts))
                 for i in range(attackers)]
        for p in procs:
            p.start()
        for _ in procs:
            ready.get(timeout=120)
        t0 = time.monotonic()
        go.set()
        try:
            attacked = _loop(server.url, token, kiosk_token, samples, warm=0)
        finally:
            stop.set()
            seen = [counts.get(timeout=60) for _ in procs]
            for p in procs:
                p.join(30)
        attack_s = time.monotonic() - t0
        # the attackers locked the admin account for unknown clients, not for the browser
        # that signed in before
        again = staff.post(f"{api}/auth/token", timeout=30,
                           json={"username": "admin", "password": PASSWORD})
        stranger = requests.post(f"{api}/auth/token", timeout=30,
                                 headers={"X-Forwarded-For": "10.0.3.30"},
                                 json={"username": "admin", "password": PASSWORD})
    finally:
        server.stop()

    out = {"attackers": attackers, "attack_seconds": round(attack_s, 1)}
    out.update(_figure("issue", quiet["issue"]))
    out.update(_figure("call_next", quiet["call"]))
    out.update(_figure("under_attack_issue", attacked["issue"]))
    out.update(_figure("under_attack_call_next", attacked["call"]))
    for key in ("issue", "call_next"):
        q, a = out.get(f"{key}_p99_ms"), out.get(f"under_attack_{key}_p99_ms")
        if q and a:
            out[f"{key}_p99_ratio"] = round(a / q, 2)
    out["attacker_requests"] = sum(sum(s.values()) for s in seen)
    out["attacker_401_hashed"] = sum(s[401] for s in seen)
    out["attacker_429_refused"] = sum(s[429] for s in seen)
    out["attacker_other"] = sum(s["other"] for s in seen)
    out["after_attack_admin_sign_in_with_device_cookie"] = again.status_code
    out["after_attack_admin_sign_in_unknown_browser"] = stranger.status_code
    return {"attack": out}
