"""A real server process (run.py) on a free port, for integration, e2e and bench."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, database_url: str, log_path: Path, admin_password: str,
                 port: int | None = None, **env):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path)
        self.env = {**os.environ, "TABOUR_DATABASE_URL": database_url,
                    "TABOUR_ADMIN_PASSWORD": admin_password, "PYTHONUNBUFFERED": "1", **env}
        self.proc: subprocess.Popen | None = None

    # generous: on a loaded 2-core machine (the suite's two workers, their browsers and
    # servers) a new process has taken over 30 s to import and answer; a server that
    # does not start at all still fails here
    START_TIMEOUT_S = 90.0

    def start(self, timeout: float = START_TIMEOUT_S) -> "ServerProcess":
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}); see {self.log_path}:\n"
                                   + self.log_path.read_text()[-3000:])
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer within {timeout}s; see {self.log_path}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.log.close()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if not self.log.closed:
            self.log.close()

    def token(self, username: str = "admin", password: str | None = None) -> str:
        r = requests.post(self.url + "/api/v1/auth/token",
                          json={"username": username,
                                "password": password or self.env["TABOUR_ADMIN_PASSWORD"]},
                          timeout=10)
        r.raise_for_status()
        return r.json()["token"]
