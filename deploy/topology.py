"""A national-network topology on one machine: nginx in front of N server processes
on PostgreSQL, sharing their emits through Redis. For trying the deployment, for
the bench and (through tests/support/topology.py) for the deployment tests.

    python -m deploy.topology start [--port 8080] [--processes 3]   (make topology)
    python -m deploy.topology status
    python -m deploy.topology stop                                  (make topology-stop)

Everything it writes lives in var/topology/: the rendered nginx config and its logs,
one log and one var folder per server process, state.json (what to stop). nginx runs
as the user who started it, on an unprivileged port. The database (default
`tabour_topology` on the local PostgreSQL) is made afresh at every start and migrated
once before the processes start; Redis is the local one, on a channel unique to the
run, so two topologies (or the test suite) never hear each other.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from . import render

ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = ROOT / "var" / "topology"
PG_ADMIN = os.environ.get("TABOUR_TOPOLOGY_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("TABOUR_TOPOLOGY_REDIS", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_nginx() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None)
    if not found:
        raise RuntimeError("nginx is not installed: `apt-get install nginx` "
                           "(make setup installs it)")
    return found


def wait_healthy(url: str, timeout: float, proc: subprocess.Popen | None = None,
                 log: Path | None = None) -> None:
    """Until GET url answers 200; fails at once when proc has exited."""
    import requests
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"{url}: the process exited ({proc.returncode}); "
                               f"see {log}:\n{tail}")
        try:
            r = requests.get(url, timeout=2)
            if r.status_code == 200:
                return
            last = f"HTTP {r.status_code}"
        except requests.RequestException as exc:
            last = exc.__class__.__name__
        time.sleep(0.1)
    raise RuntimeError(f"{url} not healthy after {timeout:.0f}s ({last})"
                       + (f"; see {log}" if log else ""))


class Nginx:
    """nginx in the foreground (daemon off) with its whole config and logs under
    ``prefix``; ``proc`` is the master process."""

    def __init__(self, prefix: Path, servers: list[str], port: int | None = None,
                 host: str = "127.0.0.1", max_fails: int = 3, fail_timeout: str = "10s"):
        self.prefix = Path(prefix).resolve()
        self.servers = servers
        self.port = port or free_port()
        self.host = host
        self.url = f"http://{host}:{self.port}"
        self.max_fails, self.fail_timeout = max_fails, fail_timeout
        self.proc: subprocess.Popen | None = None
        self.access_log = self.prefix / "access.log"
        self.error_log = self.prefix / "error.log"

    def write_config(self) -> Path:
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.prefix / "tmp" / sub).mkdir(parents=True, exist_ok=True)
        site = self.prefix / "tabour.conf"
        site.write_text(render.site(self.servers, [f"{self.host}:{self.port}"],
                                    server_name="localhost", access_log=str(self.access_log),
                                    max_fails=self.max_fails, fail_timeout=self.fail_timeout))
        main = self.prefix / "nginx.conf"
        main.write_text(render.standalone(self.prefix, site))
        return main

    def _cmd(self, *extra: str) -> list[str]:
        return [find_nginx(), "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf"),
                "-e", str(self.error_log), *extra]

    def start(self, timeout: float = 10.0, detach: bool = False) -> "Nginx":
        self.write_config()
        check = subprocess.run(self._cmd("-t", "-q"), capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx rejects its config: {check.stderr.strip()}")
        out = open(self.prefix / "nginx.out", "ab")
        self.proc = subprocess.Popen(self._cmd("-g", "daemon off;"), stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=detach)
        out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited ({self.proc.returncode}): "
                                   + self.error_log.read_text(errors="replace")[-2000:])
            try:
                socket.create_connection((self.host, self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not listen on {self.port} within {timeout}s")

    def stop(self) -> None:
        # TERM is nginx's fast shutdown; QUIT would wait for every websocket to close
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


# --- the `make topology` command line ------------------------------------------------

def _pg(url: str):
    import psycopg
    return psycopg.connect(url, autocommit=True)


def _db_url(admin: str, name: str) -> str:
    return admin.rsplit("/", 1)[0] + "/" + name


def _alive(pid: int, needle: str) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return needle in cmdline


def _stop_pids(pids: list[tuple[int, str]], timeout: float = 10.0) -> None:
    live = [(pid, needle) for pid, needle in pids if _alive(pid, needle)]
    for pid, _ in live:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while live and time.monotonic() < deadline:
        time.sleep(0.1)
        live = [(pid, needle) for pid, needle in live if _alive(pid, needle)]
    for pid, _ in live:
        os.kill(pid, signal.SIGKILL)


def _state() -> dict | None:
    path = STATE_DIR / "state.json"
    return json.loads(path.read_text()) if path.exists() else None


def stop(_args=None) -> int:
    state = _state()
    if state is None:
        print("topology: nothing to stop (no var/topology/state.json)")
        return 0
    _stop_pids([(state["nginx_pid"], "nginx")]
               + [(p["pid"], "run.py") for p in state["processes"]])
    (STATE_DIR / "state.json").unlink()
    print(f"topology stopped; logs stay in {STATE_DIR}, the database "
          f"{state['database']} until the next start")
    return 0


def status(_args=None) -> int:
    state = _state()
    if state is None:
        print("topology: not running")
        return 1
    import requests
    print(f"topology at {state['url']} (channel {state['channel']}, database {state['database']})")
    for p in state["processes"]:
        try:
            code = requests.get(f"http://127.0.0.1:{p['port']}/api/v1/health", timeout=2).status_code
        except requests.RequestException as exc:
            code = exc.__class__.__name__
        print(f"  process :{p['port']} pid {p['pid']}: "
              f"{'alive' if _alive(p['pid'], 'run.py') else 'GONE'}, health {code}")
    print(f"  nginx pid {state['nginx_pid']}: "
          f"{'alive' if _alive(state['nginx_pid'], 'nginx') else 'GONE'}")
    return 0


def start(args) -> int:
    state = _state()
    if state is not None:
        if _alive(state["nginx_pid"], "nginx") or any(_alive(p["pid"], "run.py")
                                                        for p in state["processes"]):
            sys.exit(f"topology: already running at {state['url']}: "
                     "`make topology-stop` first")
        (STATE_DIR / "state.json").unlink()
    import redis
    nginx_bin = find_nginx()
    try:
        redis.Redis.from_url(args.redis).ping()
    except redis.RedisError as exc:
        sys.exit(f"topology: Redis is not reachable at {args.redis} ({exc}): `make services`")
    try:
        with _pg(args.pg_admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{args.database}"')
    except Exception as exc:
        sys.exit(f"topology: cannot (re)create {args.database} on {args.pg_admin} ({exc}): "
                 "`make services`")
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    pw_file = STATE_DIR / "admin-password"
    pw_file.write_text(password + "\n")
    pw_file.chmod(0o600)
    channel = f"tabour-topology-{uuid.uuid4().hex[:8]}"
    db_url = _db_url(args.pg_admin, args.database)
    env = {**os.environ, "TABOUR_DATABASE_URL": db_url, "TABOUR_MESSAGE_QUEUE": args.redis,
           "TABOUR_MESSAGE_QUEUE_CHANNEL": channel, "TABOUR_ADMIN_PASSWORD": password,
           "TABOUR_TRUSTED_PROXIES": "1", "TABOUR_ID_KEY": secrets.token_hex(32),
           "PYTHONUNBUFFERED": "1"}

    print(f"topology: migrating {args.database} once, before the processes start")
    with open(STATE_DIR / "migrate.log", "wb") as log:
        done = subprocess.run([sys.executable, str(ROOT / "run.py"), "migrate"], cwd=ROOT,
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        sys.exit(f"topology: migration failed, see {STATE_DIR / 'migrate.log'}")

    procs = []
    for i in range(args.processes):
        port = free_port()
        var = STATE_DIR / f"p{i + 1}"
        var.mkdir(exist_ok=True)
        log_path = STATE_DIR / f"server-{i + 1}.log"
        penv = {**env, "TABOUR_VAR_DIR": str(var),
                # one embedded printer agent for the whole topology (files in p1/receipts)
                "TABOUR_AGENT": "1" if i == 0 else "0"}
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, str(ROOT / "run.py"), "--host", "127.0.0.1", "--port", str(port)],
                cwd=ROOT, env=penv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        procs.append((proc, port, log_path))
    nginx = Nginx(STATE_DIR / "nginx", [f"127.0.0.1:{p}" for _, p, _ in procs], port=args.port)
    state = {"url": nginx.url, "channel": channel, "database": args.database,
             "database_url": db_url, "nginx_pid": None,
             "processes": [{"pid": p.pid, "port": port, "log": str(log)} for p, port, log in procs]}
    try:
        for proc, port, log in procs:
            wait_healthy(f"http://127.0.0.1:{port}/api/v1/health", 60, proc, log)
        nginx.start(detach=True)
        state["nginx_pid"] = nginx.proc.pid
        (STATE_DIR / "state.json").write_text(json.dumps(state, indent=2))
        wait_healthy(nginx.url + "/api/v1/health", 20)
    except Exception as exc:
        for proc, _, _ in procs:
            proc.terminate()
        nginx.stop()
        (STATE_DIR / "state.json").unlink(missing_ok=True)
        sys.exit(f"topology: {exc}")
    print("\n".join([
        f"Tabour topology is up: nginx ({nginx_bin}) in front of {args.processes} server processes",
        f"  URL              {nginx.url}/   (health: {nginx.url}/api/v1/health)",
        f"  admin password   {password}   (also in {pw_file})",
        f"  processes        " + ", ".join(f"127.0.0.1:{port}" for _, port, _ in procs),
        f"  database         {db_url}",
        f"  Redis            {args.redis} channel {channel}",
        f"  logs             {STATE_DIR}/server-N.log, {STATE_DIR}/nginx/access.log and error.log",
        "  stop with        make topology-stop",
    ]), flush=True)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.topology", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("start", help="nginx + N processes + PostgreSQL + Redis")
    s.add_argument("--port", type=int, default=None, help="nginx's port (default: a free one)")
    s.add_argument("--processes", type=int, default=3)
    s.add_argument("--database", default="tabour_topology")
    s.add_argument("--pg-admin", default=PG_ADMIN,
                   help="a PostgreSQL URL allowed to create databases")
    s.add_argument("--redis", default=REDIS)
    sub.add_parser("stop", help="stop nginx and the processes")
    sub.add_parser("status", help="what runs and whether it is healthy")
    args = parser.parse_args(argv)
    return {"start": start, "stop": stop, "status": status}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
