"""The files a branch IT person installs: the systemd units are valid and agree with
the env example and with run.py."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path


from support.server import ROOT

DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").iterdir())


def _installed_copy(tmp_path: Path) -> list[Path]:
    """The units as installed, pointing at this checkout and at env files in tmp_path."""
    for name in ("tabour.env", "printer-agent.env"):
        (tmp_path / name).write_text("")
    out = []
    for unit in UNITS:
        text = unit.read_text().replace("/opt/tabour", str(ROOT)) \
            .replace("/etc/tabour/", f"{tmp_path}/")
        name = unit.name.replace("@.", "@8001.")
        (tmp_path / name).write_text(text)
        out.append(tmp_path / name)
    return out


def test_units_pass_systemd_analyze_verify(tmp_path):
    tool = shutil.which("systemd-analyze")
    assert tool, "systemd-analyze is missing: `make setup` installs Debian's systemd"
    units = _installed_copy(tmp_path)
    done = subprocess.run([tool, "verify", "--man=no", *map(str, units)],
                          capture_output=True, text=True, cwd=tmp_path)
    problems = [line for line in (done.stdout + done.stderr).splitlines()
                if "tabour" in line and "User" not in line]  # no tabour user here
    assert done.returncode == 0 and not problems, done.stdout + done.stderr


def test_units_run_what_run_py_and_the_agent_accept():
    server = (DEPLOY / "systemd" / "tabour@.service").read_text()
    assert "--port %i" in server and "EnvironmentFile=/etc/tabour/tabour.env" in server
    assert "Restart=on-failure" in server and "User=tabour" in server
    assert "TABOUR_VAR_DIR=/var/lib/tabour/%i" in server
    backup = (DEPLOY / "systemd" / "tabour-backup.service").read_text()
    assert "run.py backup --to /var/backups/tabour --keep" in backup
    agent = (DEPLOY / "systemd" / "tabour-printer-agent.service").read_text()
    help_text = subprocess.run([sys.executable, "-m", "printers.agent",
                                "--help"], capture_output=True, text=True, cwd=ROOT).stdout
    for option in re.findall(r"(--[a-z-]+)", agent.split("ExecStart=", 1)[1].split("\n#")[0]):
        assert option in help_text, f"the agent has no {option}"


def test_the_env_example_names_only_settings_the_server_reads():
    names = re.findall(r"^#?(TABOUR_[A-Z_]+)=", (DEPLOY / "tabour.env.example").read_text(),
                       re.M)
    source = "\n".join(p.read_text() for p in (ROOT / "queue_server").rglob("*.py")) \
        + (DEPLOY / "systemd" / "tabour@.service").read_text()
    unknown = [n for n in names if n not in source]
    assert not unknown, f"tabour.env.example names settings nothing reads: {unknown}"
