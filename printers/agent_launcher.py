"""Start a printer agent process beside the server (the embedded default of run.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def spawn(server_url: str, token_file: Path, *, name: str, transport: dict | None,
          var_dir: Path, paper: str = "80mm", max_age_s: float = 600.0,
          status_every_s: float = 5.0) -> subprocess.Popen:
    """The agent as a child process; it stops by itself when its parent is gone."""
    var_dir = Path(var_dir)
    transport = transport or {"type": "file", "directory": str(var_dir / "receipts")}
    log = open(var_dir / "printer-agent.log", "ab")
    cmd = [sys.executable, "-m", "printers.agent", "--server", server_url,
           "--token-file", str(token_file), "--name", name,
           "--transport", json.dumps(transport), "--spool", str(var_dir / "agent" / "spool.sqlite"),
           "--paper", paper, "--max-age", str(max_age_s), "--status-every", str(status_every_s),
           "--parent-pid", str(os.getpid())]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
