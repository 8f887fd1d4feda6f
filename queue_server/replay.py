"""Replay a branch day through the real code, and export a real day to replay.

    run.py replay --config BRANCH.toml --events EVENTS.csv --out ESTIMATES.csv
    run.py export-events --branch CODE --day YYYY-MM-DD [--out EVENTS.csv]

The event log (../shared/wait/README.md) has the columns
``at,kind,ticket,service,priority,counter``; each row is applied, in file order,
with the command that answers the same action live (``commands.issue`` answers
POST /api/v1/tickets, ``commands.call`` "call this ticket at this counter", ...)
on a fresh temporary database, with a virtual clock set to the row's time and the
wait forecast made exactly as live (after each batch, read at the issue time).
The output has one row per issued ticket with what it printed.

The whole file is checked before anything runs, and a refusal during the replay
stops it: either way the error names the line and nothing is written.
"""
from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from .engine.errors import DomainError
from .engine.model import Actor, PriorityClass

COLUMNS = ("at", "kind", "ticket", "service", "priority", "counter")
TICKET_KINDS = ("ticket_issued", "ticket_called", "ticket_recalled", "ticket_started",
                "ticket_finished", "ticket_no_show", "ticket_parked", "ticket_returned",
                "ticket_cancelled", "ticket_transferred")
COUNTER_KINDS = ("counter_opened", "counter_closed", "counter_paused", "counter_resumed")
KINDS = TICKET_KINDS + COUNTER_KINDS
PRIORITIES = {"none": PriorityClass.NORMAL, "normal": PriorityClass.NORMAL,
              "elderly": PriorityClass.ELDERLY, "disabled": PriorityClass.DISABLED,
              "pregnant": PriorityClass.PREGNANT}
NEEDS_COUNTER = {"ticket_called", "ticket_recalled", "ticket_started", "ticket_finished",
                 "ticket_no_show", "ticket_parked", "ticket_returned"} | set(COUNTER_KINDS)
OUT_COLUMNS = ("ticket", "estimated_wait_minutes", "people_ahead", "low", "high", "minutes",
               "issued_at", "called_at", "actual_wait_minutes")


class ReplayError(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass(frozen=True)
class Row:
    line: int
    at: datetime
    kind: str
    ticket: str
    service: str
    priority: str
    counter: int | None


class VirtualClock:
    def __init__(self, now: datetime | None = None):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


# --- reading and checking the log -----------------------------------------------------

def read_events(text: str, services: set[str], counters: set[int]) -> list[Row]:
    """Every row, checked: known kind, time never going back, tickets issued before
    they are used, known services and counters. ReplayError names the line."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ReplayError(1, f"missing column(s) {', '.join(missing)}: the header must be "
                             f"{','.join(COLUMNS)}")
    rows, issued, last = [], set(), None
    for n, raw in enumerate(reader, start=2):
        kind = (raw.get("kind") or "").strip()
        if kind not in KINDS:
            raise ReplayError(n, f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
        try:
            at = datetime.fromisoformat((raw.get("at") or "").strip())
        except ValueError:
            raise ReplayError(n, f"'at' is not an ISO 8601 time: {raw.get('at')!r}") from None
        if at.tzinfo is None:
            raise ReplayError(n, "'at' needs its UTC offset (e.g. 2026-01-04T08:00:00.000+01:00)")
        if last is not None and at < last:
            raise ReplayError(n, f"time goes backwards ({at.isoformat()} after "
                                 f"{last.isoformat()}): rows must be in the order to apply them")
        last = at
        ticket = (raw.get("ticket") or "").strip()
        service = (raw.get("service") or "").strip()
        priority = (raw.get("priority") or "").strip() or "none"
        counter_txt = (raw.get("counter") or "").strip()
        counter = None
        if counter_txt:
            try:
                counter = int(counter_txt)
            except ValueError:
                raise ReplayError(n, f"'counter' must be a counter number: {counter_txt!r}") \
                    from None
            if counter not in counters:
                raise ReplayError(n, f"there is no counter {counter} in the branch file")
        if kind in NEEDS_COUNTER and counter is None:
            raise ReplayError(n, f"{kind} needs the counter")
        if kind in TICKET_KINDS:
            if not ticket:
                raise ReplayError(n, f"{kind} needs the ticket")
            if kind == "ticket_issued":
                if ticket in issued:
                    raise ReplayError(n, f"ticket {ticket!r} is issued twice")
                if service not in services:
                    raise ReplayError(n, f"unknown service {service!r}: the branch file has "
                                         f"{', '.join(sorted(services))}")
                if priority not in PRIORITIES:
                    raise ReplayError(n, f"unknown priority {priority!r}: use one of "
                                         f"{', '.join(PRIORITIES)}")
                issued.add(ticket)
            elif ticket not in issued:
                raise ReplayError(n, f"{kind} for ticket {ticket!r}, which no earlier row issued")
            if kind == "ticket_transferred" and not (counter or service):
                raise ReplayError(n, "ticket_transferred needs the counter or the service "
                                     "it goes to")
            if kind == "ticket_transferred" and service and service not in services:
                raise ReplayError(n, f"unknown service {service!r}")
        rows.append(Row(n, at, kind, ticket, service, priority, counter))
    return rows


# --- replaying ---------------------------------------------------------------------------

def replay(config_path: Path, events_text: str) -> list[dict]:
    """The estimates each ticket printed, replaying the log on a fresh database."""
    from .app import write_path
    from .db import repo
    from .db.database import Database
    from .db.migrate import upgrade
    from .seed import load_config, seed

    branches = load_config(Path(config_path))
    if len(branches) != 1:
        raise ReplayError(0, f"{config_path}: the branch file must hold exactly one branch")
    b = branches[0]
    services = {sv["prefix"] for sv in b["service"]}
    counters = {int(c["number"]) for c in b["counter"]}
    rows = read_events(events_text, services, counters)
    with tempfile.TemporaryDirectory(prefix="tabour-replay-") as tmp:
        db = Database(f"sqlite:///{tmp}/replay.sqlite", durable=False)
        try:
            upgrade(db.engine)
            seed(db, branches)
            with db.read() as conn:
                branch = repo.branch_by_code(conn, b["code"])
            clock = VirtualClock(rows[0].at if rows else None)
            commands, _ = write_path(db, clock, sync_estimates=True)
            return _apply(commands, branch, rows, clock)
        finally:
            db.dispose()


def _apply(commands, branch, rows: list[Row], clock: VirtualClock) -> list[dict]:
    bid = branch.id
    actor = Actor("system", None, "replay")
    outcome = sorted(branch.outcomes)[0] if "served" not in branch.outcomes else "served"
    language = branch.languages[0]
    ids: dict[str, int] = {}
    out: dict[str, dict] = {}
    for row in rows:
        clock.now = row.at
        try:
            tid = ids.get(row.ticket)
            k, c = row.kind, row.counter
            if k == "ticket_issued":
                issued = commands.issue(bid, row.service, PRIORITIES[row.priority], language,
                                        "api", actor)
                ids[row.ticket] = issued.ticket.id
                est = issued.estimate
                out[row.ticket] = {
                    "ticket": row.ticket, "estimated_wait_minutes": _num(issued.minutes),
                    "people_ahead": issued.people_ahead,
                    "low": _num(est.low, 2) if est else "", "high": _num(est.high, 2) if est else "",
                    "minutes": _num(est.minutes, 3) if est else "",
                    "issued_at": row.at.isoformat(timespec="milliseconds"),
                    "called_at": "", "actual_wait_minutes": ""}
            elif k == "ticket_called":
                commands.call(bid, c, tid, actor)
                mine = out[row.ticket]
                if not mine["called_at"]:
                    mine["called_at"] = row.at.isoformat(timespec="milliseconds")
                    waited = (row.at - datetime.fromisoformat(mine["issued_at"])).total_seconds()
                    mine["actual_wait_minutes"] = _num(waited / 60, 3)
            elif k == "ticket_recalled":
                commands.recall(bid, c, actor, tid)
            elif k == "ticket_started":
                commands.start(bid, c, actor, tid)
            elif k == "ticket_finished":
                commands.finish(bid, c, actor, outcome, None, tid)
            elif k == "ticket_no_show":
                commands.no_show(bid, c, actor, tid)
            elif k == "ticket_parked":
                commands.park(bid, c, actor, tid)
            elif k == "ticket_returned":
                commands.return_parked(bid, c, actor, tid)
            elif k == "ticket_cancelled":
                commands.cancel(bid, tid, actor, "replay")
            elif k == "ticket_transferred":
                p = commands.writer.projections.get(bid)
                held = p.ticket(tid)
                at = p.counter(held.counter_id) if held is not None else None
                if at is None:
                    raise ReplayError(row.line, f"ticket {row.ticket!r} is at no counter: "
                                                "only a called or served ticket is transferred")
                commands.transfer(bid, at.number, actor, to_service=row.service or None,
                                  to_counter=c if not row.service else None, ticket_id=tid)
            else:
                action = {"counter_opened": "open", "counter_resumed": "open",
                          "counter_paused": "pause", "counter_closed": "close"}[k]
                commands.counter_action(bid, c, action, actor)
        except DomainError as exc:
            raise ReplayError(row.line, f"{row.kind} refused: {exc.message}") from None
    return list(out.values())


def _num(v, digits: int = 0):
    if v is None:
        return ""
    return int(v) if digits == 0 else round(float(v), digits)


def write_estimates(path: Path, rows: list[dict]) -> None:
    tmp = Path(str(path) + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=OUT_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    tmp.replace(path)


# --- exporting a real day -------------------------------------------------------------------

def export_day(db, branch_code: str, day: str) -> str:
    """A branch day from the database as an event log the replay reads (the kinds of
    real days included: recalls, no-shows, parks, transfers, cancellations)."""
    from sqlalchemy import select

    from .db import repo
    from .db import schema as s
    with db.read() as conn:
        branch = repo.branch_by_code(conn, branch_code)
        if branch is None:
            raise ReplayError(0, f"no branch {branch_code!r}")
        prefix = {sv.id: sv.prefix for sv in repo.load_services(conn, branch.id)}
        numbers = {r.id: r.number for r in conn.execute(
            select(s.counters.c.id, s.counters.c.number).where(
                s.counters.c.branch_id == branch.id))}
        tickets = {r.id: r for r in conn.execute(
            select(s.tickets.c.id, s.tickets.c.service_id, s.tickets.c.priority).where(
                s.tickets.c.branch_id == branch.id, s.tickets.c.day == day))}
        if not tickets:
            raise ReplayError(0, f"branch {branch_code} has no ticket on {day}")
        first = min(tickets)
        events = conn.execute(select(s.events).where(
            s.events.c.branch_id == branch.id,
            s.events.c.type.in_(list(TICKET_KINDS) + ["ticket_recycled", "counter_opened",
                                                      "counter_paused", "counter_closed"]))
            .order_by(s.events.c.seq)).all()
    tz = ZoneInfo(branch.timezone)
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    paused: set[int] = set()
    day_events = [e for e in events if e.ticket_id in tickets or
                  (e.ticket_id is None and e.counter_id is not None)]
    start = next((e.at for e in day_events if e.ticket_id == first or e.ticket_id in tickets), None)
    for e in day_events:
        if e.ticket_id is None and start is not None and branch_day_of(e.at, branch) != day:
            continue  # another day's openings and closings
        row = {"at": e.at.astimezone(tz).isoformat(timespec="milliseconds"), "kind": e.type,
               "ticket": f"T{e.ticket_id}" if e.ticket_id else "", "service": "",
               "priority": "", "counter": numbers.get(e.counter_id, "")}
        data = e.data or {}
        if e.type == "ticket_issued":
            t = tickets[e.ticket_id]
            row.update(service=prefix.get(e.service_id, ""), counter="",
                       priority="none" if data.get("priority", t.priority) == "normal"
                       else data.get("priority", t.priority))
        elif e.type == "ticket_recycled":
            row["kind"] = "ticket_no_show"  # replayed, the same policy recycles it again
        elif e.type == "ticket_transferred":
            to_counter = data.get("to_counter_number")
            row["counter"] = to_counter or ""
            row["service"] = "" if to_counter else prefix.get(data.get("to_service_id"), "")
        elif e.type == "ticket_cancelled":
            row["counter"] = ""
        elif e.type == "counter_paused":
            paused.add(e.counter_id)
        elif e.type == "counter_opened" and e.counter_id in paused:
            paused.discard(e.counter_id)
            row["kind"] = "counter_resumed"
        w.writerow(row)
    return out.getvalue()


def branch_day_of(at: datetime, branch) -> str:
    from .engine.numbering import branch_day
    return branch_day(at, branch.timezone, branch.policy.rollover_hour)
