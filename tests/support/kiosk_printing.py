"""In-process stand-ins for the printer agent's Socket.IO link (kiosk and printing tests)."""
from __future__ import annotations

from support.api import Api

from support.app import ADMIN_PASSWORD, make_app  # noqa: F401  (re-exported for the kiosk tests)


class Bridge:
    """What the Socket.IO link does, in-process: jobs to the agent, reports to the server."""

    def __init__(self, api: Api, name: str):
        self.api = api
        self.commands = api.tabour.commands
        token = api.post("/devices", {"role": "printer", "name": name}).get_json()["token"]
        self.principal = api.tabour.auth.authenticate(token)
        self.reports: list[tuple[str, dict]] = []

    def report(self, event: str, payload: dict) -> None:
        self.reports.append((event, payload))
        b, name = self.principal.branch_id, self.principal.name
        if event == "print_result":
            self.commands.report_result(b, name, **payload)
        else:
            self.commands.report_status(b, name, **payload)

    def pending_messages(self) -> list[dict]:
        """The jobs the server would send this agent on connect."""
        from sqlalchemy import select
        from queue_server.commands.printing import job_message
        from queue_server.db import schema as s
        with self.api.tabour.db.read() as conn:
            rows = conn.execute(select(s.print_jobs).where(
                s.print_jobs.c.printer == self.principal.name,
                s.print_jobs.c.status == "pending").order_by(s.print_jobs.c.id)).mappings()
            return [job_message(r) for r in rows]



def take(kiosk: Api, key: str, language="ar", service="A") -> dict:
    r = kiosk.post("/kiosk/tickets", {"service": service, "language": language,
                                      "idempotency_key": key})
    assert r.status_code == 201, r.get_json()
    return r.get_json()
