"""Server settings: defaults for the embedded branch PC, overridden by the environment."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .db.database import default_url

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Settings:
    # None: SQLite inside ``var_dir`` (so TABOUR_VAR_DIR moves the database too)
    database_url: str | None = None
    message_queue: str | None = None  # redis://... for several server processes
    # every process of one deployment uses the same channel (and so must any
    # write-only emitter); two deployments on one Redis use two channels
    channel: str = "flask-socketio"
    async_mode: str = "gevent"  # "threading" in in-process tests
    config_path: Path = ROOT / "config" / "branches.toml"
    admin_password: str | None = None
    var_dir: Path = ROOT / "var"
    coalesce_s: float = 0.1  # how long queue summaries wait to batch a rush
    migrate: bool = True  # bring the schema up to date and seed at start
    # proxies in front (a load balancer): their X-Forwarded-For names the client, so
    # per-client limits (tracking-number guesses) see phones, not the balancer
    trusted_proxies: int = 0
    # open the serial counter displays at start (one process, tests); run.py leaves it
    # to the process that holds the "serial-ports" lease
    serial_now: bool = True
    # recompute the wait forecast right after each batch, in the request (the replay,
    # tests comparing it with live answers); live servers do it in the background
    forecast_sync: bool = False
    # group commit (commands/writer.py): "auto" = on (SQLite: one fsync for a branch's
    # queued commands, measured 1.1-1.5x the tickets/s; PostgreSQL: one commit, and no
    # lock statement after the group's first command, measured 1.2-1.3x); "on" / "off"
    group_commit: str = "auto"

    def __post_init__(self):
        self.var_dir = Path(self.var_dir)
        if not self.database_url:
            self.database_url = default_url(self.var_dir)
        if self.group_commit not in ("auto", "on", "off"):
            raise ValueError(f"TABOUR_GROUP_COMMIT is auto, on or off, not {self.group_commit!r}")

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        env = {}
        if os.environ.get("TABOUR_DATABASE_URL"):
            env["database_url"] = os.environ["TABOUR_DATABASE_URL"]
        if os.environ.get("TABOUR_MESSAGE_QUEUE"):
            env["message_queue"] = os.environ["TABOUR_MESSAGE_QUEUE"]
        if os.environ.get("TABOUR_MESSAGE_QUEUE_CHANNEL"):
            env["channel"] = os.environ["TABOUR_MESSAGE_QUEUE_CHANNEL"]
        if os.environ.get("TABOUR_ADMIN_PASSWORD"):
            env["admin_password"] = os.environ["TABOUR_ADMIN_PASSWORD"]
        if os.environ.get("TABOUR_TRUSTED_PROXIES"):
            env["trusted_proxies"] = int(os.environ["TABOUR_TRUSTED_PROXIES"])
        if os.environ.get("TABOUR_VAR_DIR"):
            env["var_dir"] = Path(os.environ["TABOUR_VAR_DIR"])
        if os.environ.get("TABOUR_GROUP_COMMIT"):
            env["group_commit"] = os.environ["TABOUR_GROUP_COMMIT"]
        if os.environ.get("TABOUR_CONFIG"):
            env["config_path"] = Path(os.environ["TABOUR_CONFIG"])
        env.update(overrides)
        return cls(**env)
