"""A centre and its site for the sync tests (README "Sites that work offline").

The centre hosts the default branch and a site's branch (``SITE``, the same services and
counters); in-process helpers build a site app from what the centre sends down."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests
from sqlalchemy import create_engine, select

ROOT = Path(__file__).resolve().parents[2]
SITE = "souk-sebt"


def centre_config(path: Path) -> Path:
    """config/branches.toml plus the site's branch."""
    base = (ROOT / "config" / "branches.toml").read_text(encoding="utf-8")
    body = base.split("[[branch]]", 1)[1]
    site = body.replace('code = "casa-hay-hassani"', f'code = "{SITE}"', 1) \
        .replace('fr = "Agence Hay Hassani"', 'fr = "Agence mobile, souk du samedi"', 1)
    path.write_text(base + "\n[[branch]]" + site, encoding="utf-8")
    return path


def valid_insured(n: int) -> str:
    """A 9-digit insured number with its Luhn check digit (cnss_ma)."""
    from queue_server.dossiers import ids
    body = f"{10000000 + n:08d}"
    return body + ids.luhn_digit(body)


import socket  # noqa: E402
import threading  # noqa: E402


class CuttingProxy:
    """The link between a site and its centre, which the test can break: on the n-th
    sync batch it cuts the request half-way ("cut_request": the centre never gets it
    whole), drops the answer after the centre applied it ("cut_response"), or holds the
    request until told (``hold``: the site process is killed meanwhile), then forwards
    it and drops the answer. One request per upstream connection (Connection: close)."""

    BATCH = b"POST /api/v1/sync/batches "

    def __init__(self, target_port: int):
        self.target = ("127.0.0.1", target_port)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.batches = 0
        self.rule: tuple[int, str] | None = None
        self.held = threading.Event()
        self.release = threading.Event()
        self.forwarded_bytes = 0
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def on_batch(self, n_from_now: int, action: str) -> None:
        self.rule = (self.batches + n_from_now, action)

    def close(self) -> None:
        self._stop = True
        self.release.set()
        self.sock.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn) -> None:
        with conn:
            f = conn.makefile("rb")
            while True:
                line = f.readline()
                if not line:
                    return
                headers, length = [], 0
                while True:
                    h = f.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    name = h.split(b":", 1)[0].strip().lower()
                    if name == b"content-length":
                        length = int(h.split(b":", 1)[1])
                    if name != b"connection":
                        headers.append(h)
                body = f.read(length) if length else b""
                action = None
                if line.startswith(self.BATCH):
                    self.batches += 1
                    if self.rule and self.rule[0] == self.batches:
                        action, self.rule = self.rule[1], None
                request = line + b"".join(headers) + b"Connection: close\r\n\r\n"
                if action == "cut_request":
                    with socket.create_connection(self.target) as up:
                        up.sendall(request + body[:len(body) // 2])
                    return  # both connections closed: the request never arrived whole
                if action == "hold":
                    self.held.set()
                    self.release.wait(60)
                try:
                    answer = self._forward(request + body)
                except OSError:
                    return
                if action in ("cut_response", "hold"):
                    return  # the centre applied it; the site never hears
                head, _, rest = answer.partition(b"\r\n\r\n")
                head = b"\r\n".join(x for x in head.split(b"\r\n")
                                    if not x.lower().startswith(b"connection:"))
                try:
                    conn.sendall(head + b"\r\nConnection: close\r\n\r\n" + rest)
                except OSError:
                    pass
                return

    def _forward(self, raw: bytes) -> bytes:
        self.forwarded_bytes += len(raw)
        with socket.create_connection(self.target, timeout=60) as up:
            up.sendall(raw)
            chunks = []
            while True:
                got = up.recv(65536)
                if not got:
                    break
                chunks.append(got)
        return b"".join(chunks)


# --- two real processes (tests/integration/sites) ------------------------------------

PASSWORD = "market-day-admin"
MANAGER = ("nadia", "nadia-password-1")
KEPT = ("ticket_", "counter_", "dossier_")


def run(env: dict, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=120)


def auth(token):
    return {"Authorization": f"Bearer {token}"}


class Http:
    def __init__(self, server: ServerProcess, token: str):
        self.base = server.url + "/api/v1"
        self.h = auth(token)

    def post(self, path, body=None, ok=(200, 201)):
        r = requests.post(self.base + path, json=body or {}, headers=self.h, timeout=60)
        if ok:
            assert r.status_code in ok, (path, r.status_code, r.text)
        return r

    def get(self, path, **params):
        r = requests.get(self.base + path, params=params, headers=self.h, timeout=30)
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r.json()


def counts(url: str) -> dict:
    """What a database holds of the site's branch."""
    from queue_server.db import schema as s
    from queue_server.dossiers.schema import dossiers
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            b = conn.execute(select(s.branches.c.id).where(s.branches.c.code == SITE)).scalar()
            events = conn.execute(select(s.events.c.type, s.events.c.data).where(
                s.events.c.branch_id == b)).all()
            return {
                "tickets": sorted(conn.execute(select(s.tickets.c.day, s.tickets.c.code,
                                                      s.tickets.c.status)
                                               .where(s.tickets.c.branch_id == b)).all()),
                "dossiers": sorted(conn.execute(select(dossiers.c.tracking, dossiers.c.status)
                                                .where(dossiers.c.branch_id == b)).all()),
                "events": events,
                "seq": conn.execute(select(s.branches.c.event_seq)
                                    .where(s.branches.c.id == b)).scalar(),
                "branch_id": b,
            }
    finally:
        engine.dispose()


def site_events(c: dict) -> list[str]:
    return [t for t, _d in c["events"] if t.startswith(KEPT) and t not in (
        "counter_configured", "dossier_centre_decision")]


