"""The socket edge of printer agents (Socket.IO clients with a ``printer`` device
token whose name is the printer's name).

On connect an agent joins its printer's room, is marked present (in the
database: every server process gives the same answer) and gets every unfinished
job of its printer again; it reports ``print_result`` and ``printer_status``,
acknowledged. The state changes are commands (events of the branch).
"""
from __future__ import annotations

import logging

from flask import request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import rooms
from .fanout import join as join_room
from .auth import AuthError
from .engine.errors import DomainError
from .engine.messages import N_, register as register_messages

log = logging.getLogger("tabour.printers")

register_messages({
    "printer_connection_only": N_("Only a printer agent connection may report print jobs."),
})


class PrintResult(BaseModel):
    model_config = ConfigDict(extra="forbid")
    job_id: str = Field(min_length=1, max_length=64)
    status: str = Field(max_length=40)
    error: str | None = Field(None, max_length=2000)
    attempts: int | None = Field(None, ge=0, le=1_000_000)


class PrinterStatusMsg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: str = Field(max_length=40)
    detail: str = Field("", max_length=2000)


def agent_connected(tabour, sid: str, principal) -> None:
    b, name = principal.branch_id, principal.name
    join_room(rooms.printer(b, name))
    tabour.commands.agent_present(b, name, sid, True)
    jobs = tabour.commands.pending_jobs(b, name)
    for job in jobs:  # what it missed while away, oldest first
        tabour.fanout.send_to(sid, "print_job", job)
    log.info("printer agent '%s' connected (%d unfinished jobs re-sent)", name, len(jobs))


def agent_disconnected(tabour, sid: str, principal) -> None:
    try:
        tabour.commands.agent_present(principal.branch_id, principal.name, sid, False)
    except Exception:
        log.exception("could not record that printer agent '%s' left", principal.name)


def register(socketio, tabour) -> None:
    from .sockets import error

    sessions = tabour.sessions

    def agent():
        conn = sessions.get(request.sid)
        if conn is None or conn.view != "printer":
            raise AuthError("printer_connection_only", 403)
        principal = tabour.auth.authenticate(conn.token)  # a revoked agent stops at once
        if not principal.can("printer:jobs"):
            raise AuthError("role_forbidden", 403, role=principal.role,
                            permission="printer:jobs")
        return principal

    @socketio.on("print_result")
    def on_print_result(data=None):
        try:
            msg = PrintResult.model_validate(data if isinstance(data, dict) else {})
            p = agent()
            tabour.commands.report_result(p.branch_id, p.name, msg.job_id, msg.status,
                                          msg.error, msg.attempts)
            return {"ok": True}
        except (ValidationError, DomainError) as exc:
            return error(exc)

    @socketio.on("printer_status")
    def on_printer_status(data=None):
        try:
            msg = PrinterStatusMsg.model_validate(data if isinstance(data, dict) else {})
            p = agent()
            tabour.commands.report_status(p.branch_id, p.name, msg.state, msg.detail)
            return {"ok": True}
        except (ValidationError, DomainError) as exc:
            return error(exc)


def embedded_agent_token(tabour, branch_id: int, var_dir):
    """The device token of the agent run.py starts, made once and kept under var/."""
    import os
    from pathlib import Path
    path = Path(var_dir) / "printer-agent.token"
    name = tabour.printing.agent_printer
    if path.exists():
        try:
            p = tabour.auth.authenticate(path.read_text().strip())
            if p.role == "printer" and p.name == name and p.branch_id == branch_id:
                return path
        except AuthError:
            pass  # revoked, or another database: make a new one
    path.parent.mkdir(parents=True, exist_ok=True)
    token = tabour.auth.create_device(branch_id, "printer", name)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(token)
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path
