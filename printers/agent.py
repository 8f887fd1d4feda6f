"""The printer agent: a Socket.IO client that prints the jobs of one named printer.

    python -m printers.agent --server http://127.0.0.1:8000 --token-file var/agent.token \\
        --name default --transport '{"type": "network", "host": "192.168.1.50"}'

It connects with a ``printer`` device token (the token's name is the printer's
name), receives ``print_job`` messages, puts each in its local ``Spool`` (a
SQLite file: jobs survive an agent restart; the same job sent twice is kept
once), prints due jobs through the configured transport and reports
``print_result`` and ``printer_status`` back. A printer that is off or out of
paper keeps its jobs: they are retried with backoff and print when it comes
back, or are marked failed after ``max_age_s``. The server re-sends unfinished
jobs on every (re)connect, and the agent re-reports jobs it already finished.

``Agent`` is the part without sockets (tests drive it directly); ``SocketAgent``
adds the connection.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from .documents import DepositPrint, TicketPrint
from .errors import PrinterConfigError, PrintingError
from .layout import render_deposit, render_ticket
from .printing import print_blocks
from .spool import DIFFERENT, SAME, Spool
from .status import PrinterStatus, query_status
from .transports import describe, transport_for

log = logging.getLogger("tabour.agent")

BLOCKING_STATES = {"paper_out", "cover_open", "offline", "error"}
NO_PAPER = {"paper_out", "cover_open"}  # the visitor gets no ticket until someone acts
# transports whose printer answers a status query: a print can be confirmed
CONFIRMING = {"network", "serial"}
Report = Callable[[str, dict], None]


class Agent:
    """Spool, render, print, report. ``report(event, payload)`` sends to the server."""

    def __init__(self, name: str, transport: dict, spool_path: str | Path, *,
                 paper: str = "80mm", report: Report | None = None, max_age_s: float = 600.0,
                 status_timeout: float = 1.0, backoff_base_s: float = 1.0,
                 backoff_max_s: float = 15.0, clock: Callable[[], float] = time.time):
        transport_for(transport)  # an unknown type fails here, at start, with a clear message
        self.name = name
        self.transport = transport
        self.paper = paper
        self.report = report or (lambda event, payload: None)
        self.status_timeout = status_timeout
        self.spool = Spool(spool_path, max_age_s=max_age_s, backoff_base_s=backoff_base_s,
                           backoff_max_s=backoff_max_s, clock=clock)
        self.status: PrinterStatus | None = None
        self.wake = threading.Event()
        self._lock = threading.Lock()  # one job or status query at a time on the device
        self._release()  # after a restart, jobs left in the spool are tried at once

    # --- jobs in --------------------------------------------------------------------

    def receive(self, msg: dict) -> str:
        """Take a ``print_job`` message: spool it (once). Returns what happened."""
        job_id = str(msg.get("job_id") or "")
        if not job_id:
            log.error("print job without a job_id ignored: %r", msg)
            return "invalid"
        if msg.get("printer") != self.name:
            reason = (f"This agent prints for '{self.name}', not for printer "
                      f"{msg.get('printer')!r}: check the printer name of the kiosk and of the "
                      "agent's device token.")
            log.error("job %s: %s", job_id, reason)
            self.report("print_result", {"job_id": job_id, "status": "failed", "error": reason})
            return "unknown_printer"
        payload = {"kind": msg.get("kind", "ticket"), "paper": msg.get("paper"),
                   "document": msg.get("document")}
        found = self.spool.enqueue(job_id, self.name, payload)
        if found == DIFFERENT:
            # the id of a job this agent already has, for other content (a database reset,
            # a restore, another server): printing either would lie about the other
            reason = (f"Job id {job_id} was already used for another document on this "
                      "printer agent: it was not printed. Reprint the ticket from the console.")
            log.error("job %s refused: %s", job_id, reason)
            self.report("print_result", {"job_id": job_id, "status": "refused", "error": reason})
            return "refused"
        if found == SAME:
            job = self.spool.get(job_id)
            self.report("print_result", {"job_id": job_id, "attempts": job.attempts,
                                         "error": job.last_error,
                                         "status": "queued" if job.status == "pending"
                                         else job.status})  # the server missed our report
            return "duplicate"
        self.report("print_result", {"job_id": job_id, "status": "queued"})  # taken
        self.wake.set()
        return "queued"

    # --- printing ----------------------------------------------------------------------

    def _blocks(self, payload: dict):
        kind = payload.get("kind")
        if kind not in ("ticket", "deposit"):
            raise ValueError(f"unknown job kind {kind!r}")
        doc = payload.get("document")
        if not isinstance(doc, dict):
            raise ValueError("the job has no document")
        if kind == "deposit":  # a dossier deposit receipt (queue_server/dossiers)
            return render_deposit(DepositPrint(**doc), payload.get("paper") or self.paper)
        return render_ticket(TicketPrint(**doc), payload.get("paper") or self.paper)

    def work_once(self, now: float | None = None) -> int:
        """Print every due job (oldest first). Returns how many were printed."""
        for job_id in self.spool.expire(now=now):
            job = self.spool.get(job_id)
            log.error("job %s failed: %s", job_id, job.last_error)
            self.report("print_result", {"job_id": job_id, "status": "failed",
                                         "error": job.last_error, "attempts": job.attempts})
        printed = 0
        for job in self.spool.due(self.name, now=now):
            if self.status is not None and self.status.state in BLOCKING_STATES:
                # the printer said it cannot print: keep the job, try after the backoff
                self._retry(job.job_id, f"printer is {self.status.state}: {self.status.detail}",
                            now, waiting_paper=self.status.state in NO_PAPER)
                continue
            try:
                blocks = self._blocks(job.payload)
            except (TypeError, ValueError, PrintingError) as exc:
                reason = f"The job cannot be printed ({exc}): it was not retried."
                log.error("job %s: %s", job.job_id, reason)
                self.spool.mark_failed(job.job_id, reason, now=now)
                self.report("print_result", {"job_id": job.job_id, "status": "failed",
                                             "error": reason})
                continue
            try:
                with self._lock:
                    size = print_blocks(self.transport, blocks, job.payload.get("paper")
                                        or self.paper, name=self.name, job_id=job.job_id)
            except PrinterConfigError as exc:
                self.spool.mark_failed(job.job_id, str(exc), now=now)
                self.report("print_result", {"job_id": job.job_id, "status": "failed",
                                             "error": str(exc)})
                continue
            except (PrintingError, OSError) as exc:
                log.warning("job %s not printed: %s", job.job_id, exc)
                self._retry(job.job_id, str(exc), now)
                self.check_status()
                continue
            # the bytes are written; did paper come out? Only the printer can say
            confirmed = self.transport.get("type") in CONFIRMING
            if confirmed:
                after = self.check_status()
                if after.state in NO_PAPER:
                    self._retry(job.job_id, f"the printer stopped ({after.state}: "
                                f"{after.detail}) while printing; it prints again when it is "
                                "back", now, waiting_paper=True)
                    continue
                confirmed = after.state in ("online", "paper_near_end")
            self.spool.mark_printed(job.job_id, now=now, confirmed=confirmed)
            printed += 1
            status = "printed" if confirmed else "printed_unconfirmed"
            log.info("job %s %s on %s (%d bytes)", job.job_id, status.replace("_", " "),
                     describe(self.transport), size)
            self.report("print_result", {"job_id": job.job_id, "status": status,
                                         "attempts": job.attempts + 1})
        return printed

    def _retry(self, job_id: str, reason: str, now: float | None,
               waiting_paper: bool = False) -> None:
        job = self.spool.retry_later(job_id, reason, now=now)
        status = "failed" if job.status == "failed" else \
            "waiting_paper" if waiting_paper else "retrying"
        self.report("print_result", {"job_id": job_id, "status": status,
                                     "error": job.last_error, "attempts": job.attempts})

    # --- printer state -------------------------------------------------------------------

    def check_status(self, force_report: bool = False) -> PrinterStatus:
        """Ask the printer how it is; report it when it changed."""
        with self._lock:
            status = query_status(self.transport, name=self.name, timeout=self.status_timeout)
        changed = self.status is None or (status.state, status.detail) != (
            self.status.state, self.status.detail)
        was_blocked = self.status is not None and self.status.state in BLOCKING_STATES
        self.status = status
        if changed or force_report:
            if status.state != "online":
                log.warning("printer '%s' (%s) is %s %s", self.name, describe(self.transport),
                            status.state, status.detail)
            self.report("printer_status", {"state": status.state, "detail": status.detail})
        if was_blocked and status.state not in BLOCKING_STATES:
            self._release()
        return status

    def _release(self) -> None:
        """The printer is back: waiting jobs print now, not after their backoff."""
        for job in self.spool.pending(self.name):
            self.spool._execute("UPDATE print_jobs SET next_attempt_at = ? WHERE job_id = ?",
                                (0, job.job_id))
        self.wake.set()

    def close(self) -> None:
        self.spool.close()


class SocketAgent:
    """An ``Agent`` connected to the server over Socket.IO, with its worker thread."""

    def __init__(self, server: str, token: str, agent: Agent, *, status_every_s: float = 5.0,
                 parent_pid: int | None = None):
        import socketio
        self.server = server.rstrip("/")
        self.token = token
        self.agent = agent
        self.status_every_s = status_every_s
        self.parent_pid = parent_pid
        self.stopping = threading.Event()
        self.connected = threading.Event()
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.3,
                                   reconnection_delay_max=2, logger=False, engineio_logger=False)
        agent.report = self._report
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("print_job", self._on_job)
        self._threads: list[threading.Thread] = []

    def _report(self, event: str, payload: dict) -> None:
        if not self.sio.connected:
            return  # the server re-sends unfinished jobs on reconnect; we re-report then
        try:
            self.sio.emit(event, payload, callback=lambda answer=None: self._answered(event, answer))
        except Exception as exc:  # a disconnect in between: same as above
            log.info("report %s not sent: %s", event, exc)

    def _answered(self, event: str, answer) -> None:
        if isinstance(answer, dict) and not answer.get("ok", True):
            log.error("the server refused %s: %s", event, answer.get("error"))

    def _on_connect(self):
        log.info("connected to %s as printer '%s'", self.server, self.agent.name)
        self.connected.set()
        threading.Thread(target=self._after_connect, daemon=True).start()

    def _after_connect(self) -> None:
        """Tell the server how the printer is (the handshake ends after the handler)."""
        deadline = time.monotonic() + 5
        while not self.sio.connected and time.monotonic() < deadline:
            time.sleep(0.01)
        if self.agent.status is None:
            self.agent.check_status(force_report=True)
        else:
            self._report("printer_status", {"state": self.agent.status.state,
                                            "detail": self.agent.status.detail})

    def _on_disconnect(self, *_args):
        self.connected.clear()
        if not self.stopping.is_set():
            log.warning("lost the server %s: reconnecting", self.server)

    def _on_job(self, msg):
        if isinstance(msg, dict):
            self.agent.receive(msg)

    def _connect_loop(self) -> None:
        delay = 0.3
        while not self.stopping.is_set():
            try:
                self.sio.connect(self.server, auth={"token": self.token, "view": "printer"},
                                 transports=["websocket"], wait_timeout=5)
                return  # python-socketio reconnects by itself from now on
            except Exception as exc:
                message = str(exc)
                if "token" in message.lower():
                    log.error("the server refused this agent: %s", message)
                    delay = 10.0
                else:
                    log.info("server %s not reachable yet (%s)", self.server, message)
                self.stopping.wait(delay)
                delay = min(delay * 2, 3.0) if delay < 10 else delay

    def _work_loop(self) -> None:
        next_status = time.monotonic()
        while not self.stopping.is_set():
            if self.parent_pid and not _alive(self.parent_pid):
                log.info("the server process is gone: stopping")
                self.stopping.set()
                break
            try:
                if time.monotonic() >= next_status:
                    self.agent.check_status()
                    next_status = time.monotonic() + self.status_every_s
                self.agent.work_once()
            except Exception:
                log.exception("printer agent loop failed; going on")
            pending = self.agent.spool.pending(self.agent.name)
            wait = min([self.status_every_s, 1.0 if self.parent_pid else self.status_every_s]
                       + [max(0.0, j.next_attempt_at - time.time()) for j in pending])
            self.agent.wake.wait(max(0.01, wait))
            self.agent.wake.clear()

    def start(self) -> "SocketAgent":
        for target in (self._connect_loop, self._work_loop):
            t = threading.Thread(target=target, daemon=True, name=f"agent-{target.__name__}")
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.agent.wake.set()
        try:
            self.sio.disconnect()
        except Exception:
            pass
        for t in self._threads:
            t.join(5)
        self.agent.close()

    def run_forever(self) -> None:
        self.start()
        try:
            while not self.stopping.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        self.stop()


def _alive(pid: int) -> bool:
    """Is the process that started us still our parent? (reparented: it is gone)"""
    return os.getppid() == pid


def main(argv=None) -> int:
    os.umask(0o077)  # receipts and the spool hold personal data: owner-only files
    logging.basicConfig(level=logging.INFO, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="python -m printers.agent", description=__doc__.split("\n")[0])
    p.add_argument("--server", required=True, help="the queue server, http://host:port")
    p.add_argument("--token", help="the printer device token (or --token-file)")
    p.add_argument("--token-file", help="a file holding the printer device token")
    p.add_argument("--name", default="default", help="the printer's name (its token's name)")
    p.add_argument("--transport", default=None,
                   help='JSON printer config, e.g. {"type": "network", "host": "10.0.0.5"}; '
                        "default: files under var/receipts")
    p.add_argument("--spool", default="var/agent/spool.sqlite")
    p.add_argument("--paper", default="80mm")
    p.add_argument("--max-age", type=float, default=600.0)
    p.add_argument("--status-every", type=float, default=5.0)
    p.add_argument("--parent-pid", type=int, default=None,
                   help="stop when this process (the server that started us) is gone")
    args = p.parse_args(argv)
    token = args.token or (Path(args.token_file).read_text().strip() if args.token_file else None)
    if not token:
        sys.exit("give --token or --token-file (a printer device token: "
                 "python run.py create-device --role printer --name NAME)")
    transport = json.loads(args.transport) if args.transport else \
        {"type": "file", "directory": "var/receipts"}
    try:
        agent = Agent(args.name, transport, args.spool, paper=args.paper,
                      max_age_s=args.max_age)
    except PrinterConfigError as exc:
        sys.exit(str(exc))
    log.info("printer agent '%s': printing to %s (%s), spool %s", args.name,
             describe(transport), transport.get("type"), args.spool)
    SocketAgent(args.server, token, agent, status_every_s=args.status_every,
                parent_pid=args.parent_pid).run_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
