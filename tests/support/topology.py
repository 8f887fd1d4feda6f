"""The national-network shape for tests: nginx (deploy/nginx) in front of N real
server processes on PostgreSQL, sharing emits through Redis on a channel of their
own; and, for the outage tests, a PRIVATE Redis and a PRIVATE PostgreSQL cluster
(never the shared local ones, which other tests and sessions use).

Everything is torn down by ``stop()`` even when a test fails half-way; logs go to
the folder given (pytest's tmp_path).
"""
from __future__ import annotations

import os
import queue
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
import redis
import requests

from deploy.topology import Nginx, free_port, wait_healthy
from support.server import ROOT, ServerProcess

SHARED_REDIS = "redis://127.0.0.1:6379/0"
PG_BIN = Path(os.environ.get("TABOUR_PG_BIN", "/usr/lib/postgresql/15/bin"))


# the calls and recalls that no process announced (no announcement row): read by the
# deployment tests and bench-national straight from PostgreSQL, beside the server
UNANNOUNCED_CALLS_SQL = (
    "SELECT count(*) FROM events e WHERE e.type IN ('ticket_called', 'ticket_recalled') "
    "AND NOT EXISTS (SELECT 1 FROM announcements a "
    "WHERE a.branch_id = e.branch_id AND a.seq = e.seq)")


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def migrate(database_url: str, admin_password: str, log: Path) -> None:
    """`run.py migrate` once, as a deployment does before starting its processes
    (it also seeds the branch and creates the admin)."""
    env = {**os.environ, "TABOUR_DATABASE_URL": database_url,
           "TABOUR_ADMIN_PASSWORD": admin_password}
    with open(log, "ab") as out:
        done = subprocess.run([sys.executable, str(ROOT / "run.py"), "migrate"], cwd=ROOT,
                              env=env, stdout=out, stderr=subprocess.STDOUT, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"run.py migrate failed; see {log}:\n{log.read_text()[-3000:]}")


class Topology:
    """nginx + ``processes`` server processes on ``database_url``.

    ``url`` is nginx's; ``servers`` the ServerProcess objects (kill9, stop, restart);
    ``by_addr`` maps the X-Tabour-Upstream header nginx adds to a process index.
    """

    def __init__(self, workdir: Path, database_url: str, processes: int = 3,
                 redis_url: str = SHARED_REDIS, password: str = "topology-admin-pass",
                 fail_timeout: str = "10s"):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.password = password
        self.channel = f"tabour-test-{uuid.uuid4().hex[:8]}"
        self.env = {"TABOUR_MESSAGE_QUEUE": redis_url,
                    "TABOUR_MESSAGE_QUEUE_CHANNEL": self.channel,
                    "TABOUR_TRUSTED_PROXIES": "1",
                    "TABOUR_ID_KEY": secrets.token_hex(16),
                    "TABOUR_AGENT": "0"}
        self.servers = [self._server(i) for i in range(processes)]
        self.nginx = Nginx(self.workdir / "nginx", [f"127.0.0.1:{s.port}" for s in self.servers],
                           fail_timeout=fail_timeout)
        self.url = self.nginx.url
        self.by_addr = {f"127.0.0.1:{s.port}": i for i, s in enumerate(self.servers)}

    def _server(self, i: int, port: int | None = None) -> ServerProcess:
        var = self.workdir / f"p{i + 1}"
        var.mkdir(exist_ok=True)
        return ServerProcess(self.database_url, self.workdir / f"server-{i + 1}.log",
                             self.password, port=port, TABOUR_VAR_DIR=str(var), **self.env)

    def start(self, migrate_first: bool = True) -> "Topology":
        try:
            if migrate_first:
                migrate(self.database_url, self.password, self.workdir / "migrate.log")
            errors: list[BaseException] = []

            def boot(server):
                try:
                    server.start(timeout=60)
                except BaseException as exc:  # noqa: BLE001 (reported below)
                    errors.append(exc)
            threads = [threading.Thread(target=boot, args=(s,)) for s in self.servers]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if errors:
                raise errors[0]
            self.nginx.start()
            wait_healthy(self.url + "/api/v1/health", 20)
        except BaseException:
            self.stop()
            raise
        return self

    def restart(self, i: int) -> ServerProcess:
        """A fresh process on the same port (after kill9 or stop)."""
        self.servers[i] = self._server(i, port=self.servers[i].port).start(timeout=60)
        return self.servers[i]

    def token(self) -> str:
        r = requests.post(self.url + "/api/v1/auth/token", timeout=10,
                          json={"username": "admin", "password": self.password})
        r.raise_for_status()
        return r.json()["token"]

    def stop(self) -> None:
        for step in [self.nginx.stop] + [s.stop for s in self.servers]:
            try:
                step()
            except Exception:  # noqa: BLE001 - tear down the rest whatever happens
                pass

    def __enter__(self) -> "Topology":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def as_postgres_user(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root (CI runs as root)."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class PrivatePostgres:
    """A throwaway PostgreSQL cluster (initdb in a temp folder, trust auth, its own
    port and socket folder) that a test may stop and start at will."""

    def __init__(self, log_dir: Path):
        # not under pytest's tmp_path: as root that is 0700 and the postgres user
        # (initdb will not run as root) could not enter it
        self.dir = Path(tempfile.mkdtemp(prefix="tabour-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.log_copy = Path(log_dir) / "postgres.log"
        self.port = free_port()

    def _run(self, *cmd: str, timeout: float = 60) -> None:
        done = subprocess.run(as_postgres_user(list(cmd)), capture_output=True, text=True,
                              timeout=timeout, cwd=self.dir)
        if done.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed: {done.stdout}\n{done.stderr}")

    def init(self) -> "PrivatePostgres":
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
        return self.start()

    def start(self) -> "PrivatePostgres":
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                        "-c fsync=off -c max_connections=200", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except Exception:  # noqa: BLE001 - already stopped
            pass
        try:
            if self.log.exists():
                shutil.copy(self.log, self.log_copy)
        except OSError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """A redis-server of the test's own on a free port, in a temp folder."""

    def __init__(self, workdir: Path):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10) -> "PrivateRedis":
        log = open(self.dir / "redis.log", "ab")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url, socket_timeout=0.5).ping()
                return self
            except redis.RedisError:
                if self.proc.poll() is not None:
                    raise RuntimeError("redis-server exited; see " + str(self.dir / "redis.log"))
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class Display:
    """A wall display's Socket.IO link (websocket only, as the real page), through
    nginx; remembers which process served each of its connections."""

    def __init__(self, url: str, token: str, reconnection: bool = False,
                 extra_auth: dict | None = None):
        import socketio
        self.url, self.token = url, token
        self.extra_auth = extra_auth or {}  # a console: {"view": "counter", "counter": n}
        self.client = socketio.Client(reconnection=reconnection, reconnection_delay=0.2,
                                      reconnection_delay_max=1, randomization_factor=0.2)
        self.queues: dict[str, queue.Queue] = {}
        self.snapshots = 0
        self.upstreams: list[str | None] = []  # one per (re)connection, in order
        self.seen_calls: list[dict] = []
        for name in ("ticket_called", "queue_changed", "counter_queue", "announcement"):
            self.client.on(name, self._keeper(name))
        self.client.on("snapshot", self._on_snapshot)
        self.client.on("resync", self._on_resync)
        self.resyncs = 0
        self.closed = False

    def _keeper(self, name):
        q = self.queues.setdefault(name, queue.Queue())

        def keep(data):
            if name == "ticket_called":
                self.seen_calls.append(data)
            q.put(data)
        return keep

    def _on_snapshot(self, data):
        ws = getattr(self.client.eio, "ws", None)
        headers = ws.getheaders() if ws is not None else {}
        self.upstreams.append((headers or {}).get("x-tabour-upstream"))
        self.snapshots += 1
        # what the page shows after a snapshot: the last calls, missed ones included
        self.seen_calls.extend(data.get("calls") or [])
        self.queues.setdefault("snapshot", queue.Queue()).put(data)

    def _on_resync(self, _data=None):
        """What the page does (tabour-live.js): a fresh snapshot, by reconnecting."""
        self.resyncs += 1
        import threading

        def again():
            # the page's socket.io client keeps trying after a failed connect; so does
            # this one (a loaded machine may time out once), until it is closed
            self.client.disconnect()
            for delay in (0, 0.5, 1, 2, 4, 4, 4, 4):
                time.sleep(delay)
                if self.closed:
                    return
                try:
                    self.client.connect(self.url, auth={"token": self.token,
                                                        **self.extra_auth},
                                        transports=["websocket"], wait_timeout=10)
                    return
                except Exception:  # noqa: BLE001  (tried again after the delay)
                    continue
        threading.Thread(target=again, daemon=True).start()

    @property
    def upstream(self) -> str | None:
        return self.upstreams[-1] if self.upstreams else None

    def connect(self, timeout: float = 10) -> "Display":
        self.client.connect(self.url, auth={"token": self.token, **self.extra_auth},
                            transports=["websocket"], wait_timeout=timeout)
        self.wait("snapshot", timeout=timeout)
        return self

    def wait(self, name: str, match=lambda _d: True, timeout: float = 5.0) -> dict:
        q = self.queues.setdefault(name, queue.Queue())
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no matching {name} within {timeout}s")
            try:
                data = q.get(timeout=left)
            except queue.Empty:
                continue
            if match(data):
                return data

    def close(self) -> None:
        self.closed = True
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001
            pass


def close_all(displays: list[Display]) -> None:
    """Disconnect at once (one client's disconnect waits ~3 s for its reader)."""
    threads = [threading.Thread(target=d.close) for d in displays]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)


class Kiosk(threading.Thread):
    """Issues tickets through nginx as fast as it can; a failed tap is retried with the
    SAME Idempotency-Key (as the kiosk page does), so each key ends in one ticket."""

    def __init__(self, url: str, token: str, name: str, services: str = "A",
                 give_up_s: float = 60.0):
        super().__init__(name=name, daemon=True)
        self.url, self.token, self.services, self.give_up_s = url, token, services, give_up_s
        self.stop = threading.Event()
        self.acked: dict[str, dict] = {}  # key -> the ticket
        self.failures: list[tuple[float, int | str, str, float]] = []  # at, status, code, took
        self.retried_ok = 0  # keys that failed at least once, then got their ticket
        self.pending: str | None = None

    def run(self) -> None:
        i = 0
        with requests.Session() as s:
            while not self.stop.is_set() or self.pending:
                if self.pending is None:
                    self.pending, first, failed = f"k-{uuid.uuid4().hex}", time.monotonic(), False
                    i += 1
                t0 = time.monotonic()
                try:
                    r = s.post(f"{self.url}/api/v1/tickets", timeout=15,
                               headers={**auth(self.token), "Idempotency-Key": self.pending},
                               json={"service": self.services[i % len(self.services)]})
                    status, code = r.status_code, _error_code(r)
                except requests.RequestException as exc:
                    status, code = exc.__class__.__name__, ""
                if status in (200, 201):
                    self.acked[self.pending] = r.json()
                    self.retried_ok += failed
                    self.pending = None
                    continue
                failed = True
                self.failures.append((t0, status, code, time.monotonic() - t0))
                if time.monotonic() - first > self.give_up_s:
                    return  # the test's assertions say so (pending stays set)
                time.sleep(0.1)


class Agent(threading.Thread):
    """A counter agent: call next, start, finish, again. Any answer it did not get is
    resolved by asking the counter what it holds (call-next answers 409 while the
    counter still has a ticket, so a retried call never calls a second one)."""

    def __init__(self, url, token, counter):
        super().__init__(name=f"agent-{counter}", daemon=True)
        self.url, self.h, self.counter = url, auth(token), counter
        self.stop = threading.Event()
        self.called: list[str] = []
        self.failures: list[int | str] = []
        self.errors: list[tuple[int, str]] = []  # (status, error code) of each 5xx

    def post(self, s, action, body=None):
        try:
            r = s.post(f"{self.url}/api/v1/counters/{self.counter}/{action}", headers=self.h,
                       json=body or {}, timeout=15)
        except requests.RequestException as exc:
            self.failures.append(exc.__class__.__name__)
            return None
        if r.status_code >= 500:
            self.failures.append(r.status_code)
            self.errors.append((r.status_code, _error_code(r)))
        return r

    def serve(self, s, ticket_id):
        self.post(s, "start", {"ticket_id": ticket_id})
        self.post(s, "finish", {"ticket_id": ticket_id, "outcome": "served"})

    def run(self):
        with requests.Session() as s:
            while not self.stop.is_set():
                r = self.post(s, "call-next")
                if r is None or r.status_code >= 500:
                    time.sleep(0.1)
                elif r.status_code == 200:
                    self.called.append(r.json()["code"])
                    self.serve(s, r.json()["id"])
                elif r.status_code == 204:
                    time.sleep(0.05)
                elif r.status_code == 409:  # it still holds a ticket: finish that first
                    try:
                        current = self.current(s)
                    except (requests.RequestException, ValueError, KeyError):
                        continue
                    if current:
                        self.serve(s, current["id"])
                    else:
                        time.sleep(0.05)

    def current(self, s) -> dict | None:
        counters = s.get(f"{self.url}/api/v1/counters", headers=self.h, timeout=15).json()
        return next(c for c in counters["counters"]
                    if c["number"] == self.counter)["current_ticket"]


def _error_code(r: requests.Response) -> str:
    if r.status_code < 400:
        return ""
    try:
        return (r.json().get("error") or {}).get("code", "")
    except ValueError:
        return "(not JSON)"
