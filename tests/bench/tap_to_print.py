"""Tap-to-printed latency for ``make bench``.

    from tests.bench.tap_to_print import measure_tap_to_print
    measure_tap_to_print("http://127.0.0.1:8000", admin_token)

Against a running server: a printer agent in this process (its own printer
device token) prints on a virtual network printer (raw TCP on loopback, which
answers the status query as a healthy printer); a kiosk paired to it issues
tickets through POST /api/v1/kiosk/tickets. Measured: from sending the tap to
the ticket's code arriving at the printer. The tokens are revoked at the end.
"""
from __future__ import annotations

import json
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

from support.virtual_printers import TcpVirtualPrinter
from bench.stats import summary


def measure_tap_to_print(server_url: str, admin_token: str, tickets: int = 30,
                         service: str = "A", counter: int = 1) -> dict:
    from printers.agent import Agent, SocketAgent

    api = server_url.rstrip("/") + "/api/v1"
    admin = {"Authorization": f"Bearer {admin_token}"}
    name = f"bench-{secrets.token_hex(3)}"
    requests.post(f"{api}/counters/{counter}/open", json={}, headers=admin, timeout=10)
    printer_token = requests.post(f"{api}/devices", json={"role": "printer", "name": name},
                                  headers=admin, timeout=10).json()["token"]
    code = requests.post(f"{api}/kiosk/pairing-codes", json={"kiosk_name": name, "printer": name},
                         headers=admin, timeout=10).json()["code"]
    paired = requests.post(f"{api}/kiosk/pair", json={"code": code}, timeout=10).json()
    kiosk = requests.Session()
    kiosk.headers["Authorization"] = f"Bearer {paired['token']}"
    printer = TcpVirtualPrinter()  # answers the status query as a healthy printer
    workdir = Path(tempfile.mkdtemp(prefix="tabour-bench-"))
    agent = SocketAgent(server_url, printer_token, Agent(
        name, printer.config,
        workdir / "spool.sqlite"), status_every_s=30).start()
    try:
        if not agent.connected.wait(10):
            raise RuntimeError("the bench printer agent could not connect to " + server_url)
        time.sleep(0.3)  # its first status query
        timings = []
        for i in range(tickets + 1):
            start = time.perf_counter()
            r = kiosk.post(f"{api}/kiosk/tickets", json={
                "service": service, "language": "ar" if i % 2 else "fr",
                "idempotency_key": f"{name}-{i:04d}"}, timeout=10)
            r.raise_for_status()
            ticket_code = r.json()["ticket"]["code"].encode()
            deadline = start + 10
            while ticket_code not in printer.received:
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"ticket {ticket_code!r} did not print within 10 s")
                time.sleep(0.0005)
            elapsed = (time.perf_counter() - start) * 1000
            printer.clear()  # keeps the next poll's copy small
            if i:  # the first one warms fonts and connections up
                timings.append(elapsed)
        return {"tap_to_print_ms": summary(timings, 1)}
    finally:
        agent.stop()
        printer.stop()
        for kind_id in (paired.get("token_id"),):
            if kind_id:
                requests.post(f"{api}/devices/{kind_id}/revoke", json={}, headers=admin, timeout=10)


if __name__ == "__main__":
    print(json.dumps(measure_tap_to_print(sys.argv[1], sys.argv[2])))
