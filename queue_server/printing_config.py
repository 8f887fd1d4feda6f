"""config/printing.toml: kiosk behaviour, receipt lines and the embedded printer agent."""
from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent.parent / "config" / "printing.toml"


@dataclass
class PrintingConfig:
    idle_seconds: int = 40
    digits: str = "western"
    public_url: str = ""
    pairing_code_minutes: int = 15
    paper: str = "80mm"
    header_lines: list = field(default_factory=list)
    footer_lines: list = field(default_factory=list)
    agent_enabled: bool = True
    agent_printer: str = "default"
    agent_max_age_s: float = 600.0
    agent_status_every_s: float = 5.0
    agent_transport: dict | None = None  # None: file printer under var/receipts
    # a job no printer agent has taken after this long is "not taken": an alert, and the
    # kiosk tells the visitor to ask at reception
    take_timeout_s: float = 120.0
    # an agent not heard from for this long is gone (its server process may have died)
    presence_timeout_s: float = 20.0

    @classmethod
    def load(cls, path: Path | None = None) -> "PrintingConfig":
        path = Path(os.environ.get("TABOUR_PRINTING_CONFIG") or path or DEFAULT)
        data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        kiosk, receipt, agent = data.get("kiosk", {}), data.get("receipt", {}), data.get("agent", {})
        jobs = data.get("jobs", {})
        cfg = cls(
            idle_seconds=int(kiosk.get("idle_seconds", 40)),
            digits=str(kiosk.get("digits", "western")),
            public_url=str(kiosk.get("public_url", "")).rstrip("/"),
            pairing_code_minutes=int(kiosk.get("pairing_code_minutes", 15)),
            paper=str(receipt.get("paper", "80mm")),
            header_lines=list(receipt.get("header_lines", [])),
            footer_lines=list(receipt.get("footer_lines", [])),
            agent_enabled=bool(agent.get("enabled", True)),
            agent_printer=str(agent.get("printer", "default")),
            agent_max_age_s=float(agent.get("max_age_s", 600)),
            agent_status_every_s=float(agent.get("status_every_s", 5)),
            agent_transport=agent.get("transport"),
            take_timeout_s=float(jobs.get("take_timeout_s", 120)),
            presence_timeout_s=float(agent.get("presence_timeout_s", 20)),
        )
        # environment overrides (tests, a kiosk PC started by a service manager)
        if os.environ.get("TABOUR_AGENT") == "0":
            cfg.agent_enabled = False
        if os.environ.get("TABOUR_AGENT_TRANSPORT"):
            cfg.agent_transport = json.loads(os.environ["TABOUR_AGENT_TRANSPORT"])
        if os.environ.get("TABOUR_KIOSK_IDLE_SECONDS"):
            cfg.idle_seconds = int(os.environ["TABOUR_KIOSK_IDLE_SECONDS"])
        if os.environ.get("TABOUR_PRINTER_PRESENCE_S"):
            cfg.presence_timeout_s = float(os.environ["TABOUR_PRINTER_PRESENCE_S"])
        if os.environ.get("TABOUR_PRINT_TAKE_TIMEOUT_S"):
            cfg.take_timeout_s = float(os.environ["TABOUR_PRINT_TAKE_TIMEOUT_S"])
        if os.environ.get("TABOUR_PUBLIC_URL"):
            cfg.public_url = os.environ["TABOUR_PUBLIC_URL"].rstrip("/")
        return cfg
