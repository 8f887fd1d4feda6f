"""Rows in, engine objects out (and back). Every query the service layer runs.

Statements are built once at import and reused: more than half the CPU of a
write went into building SQL, so the hot path binds parameters only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, union_all, update
from sqlalchemy.engine import Connection

from ..engine.model import (
    Actor, Counter, CounterState, Event, Policy, PriorityClass, Service, Ticket, TicketStatus,
)
from ..engine.schedule import Schedule, ScheduleError
from . import schema as s


@dataclass(frozen=True)
class Branch:
    id: int
    code: str
    names: dict
    timezone: str
    languages: list
    display_languages: list
    policy: Policy
    outcomes: frozenset
    schedule: Schedule = field(default_factory=Schedule)  # hours, closed days (0007)
    zones: dict = field(default_factory=dict)  # display zone name -> {name, services, counters}

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names.get("fr") or self.code


def zones_from(data) -> dict:
    """Display zones as stored ([{name, services, counters}]) -> by name."""
    out = {}
    for z in data or ():
        name = str(z.get("name", "")).strip()
        if name:
            out[name] = {"name": name, "services": [str(x) for x in z.get("services") or ()],
                         "counters": [int(x) for x in z.get("counters") or ()]}
    return out


def _schedule(data) -> Schedule:
    try:
        return Schedule.from_data(data)
    except ScheduleError:  # written by the API, checked there: never expected
        return Schedule()


def policy_from(data: dict) -> Policy:
    known = {k: v for k, v in (data or {}).items() if k in Policy.__dataclass_fields__}
    return Policy(**known)


def _branch(row) -> Branch:
    return Branch(row.id, row.code, row.names, row.timezone, list(row.languages),
                  list(row.display_languages), policy_from(row.policy), frozenset(row.outcomes),
                  _schedule(row.schedule), zones_from(row.display_zones))


_Q_BRANCH = select(s.branches).where(s.branches.c.id == bindparam("id"))
_Q_BRANCHES = select(s.branches).order_by(s.branches.c.id)


def load_branch(conn: Connection, branch_id: int) -> Branch | None:
    row = conn.execute(_Q_BRANCH, {"id": branch_id}).first()
    return _branch(row) if row else None


def load_branches(conn: Connection) -> list[Branch]:
    return [_branch(r) for r in conn.execute(_Q_BRANCHES)]


def branch_by_code(conn: Connection, code: str) -> Branch | None:
    row = conn.execute(select(s.branches).where(s.branches.c.code == code)).first()
    return _branch(row) if row else None


# --- services ------------------------------------------------------------------

def _service(row) -> Service:
    return Service(row.id, row.prefix, row.names, row.target_wait_minutes, row.icon,
                   bool(row.active), row.prior_minutes, row.prior_sd_minutes, row.closed_day,
                   row.cutoff)


_Q_SERVICES = (select(s.services).where(s.services.c.branch_id == bindparam("b"))
               .order_by(s.services.c.position, s.services.c.prefix))


def load_services(conn: Connection, branch_id: int) -> list[Service]:
    return [_service(r) for r in conn.execute(_Q_SERVICES, {"b": branch_id})]


# --- counters ------------------------------------------------------------------

_Q_COUNTERS = (select(s.counters).where(s.counters.c.branch_id == bindparam("b"))
               .order_by(s.counters.c.number))
_Q_COUNTER_SERVICES = (
    select(s.counter_services)
    .join(s.counters, s.counters.c.id == s.counter_services.c.counter_id)
    .where(s.counters.c.branch_id == bindparam("b")))
_Q_COUNTER_BY_NUMBER = select(s.counters).where(
    s.counters.c.branch_id == bindparam("b"), s.counters.c.number == bindparam("n"))
_Q_COUNTER_BY_NUMBER_LOCK = _Q_COUNTER_BY_NUMBER.with_for_update()
_Q_ONE_COUNTER_SERVICES = select(s.counter_services).where(
    s.counter_services.c.counter_id == bindparam("c"))
_Q_COUNTER_BY_ID = select(s.counters).where(s.counters.c.id == bindparam("id"))


def _counter(row, services: dict) -> Counter:
    return Counter(row.id, row.number, row.name, services, CounterState(row.state),
                   row.current_ticket_id, row.priority_streak, row.version)


@dataclass(frozen=True)
class CounterRow:
    """A counter with what the read model shows beside it: who opened it, since when
    it is in its state."""

    counter: Counter
    agent_user_id: int | None
    since: datetime | None


def load_counter_rows(conn: Connection, branch_id: int,
                      ids: list[int] | None = None) -> list[CounterRow]:
    skills: dict[int, dict] = {}
    for r in conn.execute(_Q_COUNTER_SERVICES, {"b": branch_id}):
        skills.setdefault(r.counter_id, {})[r.service_id] = r.rank
    rows = conn.execute(_Q_COUNTERS, {"b": branch_id})
    return [CounterRow(_counter(r, skills.get(r.id, {})), r.agent_user_id, r.updated_at)
            for r in rows if ids is None or r.id in ids]


def load_counters(conn: Connection, branch_id: int) -> list[Counter]:
    skills: dict[int, dict] = {}
    for r in conn.execute(_Q_COUNTER_SERVICES, {"b": branch_id}):
        skills.setdefault(r.counter_id, {})[r.service_id] = r.rank
    return [_counter(r, skills.get(r.id, {})) for r in conn.execute(_Q_COUNTERS, {"b": branch_id})]


def counter_agents(conn: Connection, branch_id: int) -> dict[int, int | None]:
    """counter number -> the user who opened it."""
    return {r.number: r.agent_user_id for r in conn.execute(_Q_COUNTERS, {"b": branch_id})}


def get_counter(conn: Connection, branch_id: int, number: int, lock: bool = False) -> Counter | None:
    """A counter by its number. ``lock`` takes its row lock (PostgreSQL) so two
    consoles of one counter act one after the other."""
    q = _Q_COUNTER_BY_NUMBER_LOCK if lock and conn.dialect.name != "sqlite" else _Q_COUNTER_BY_NUMBER
    row = conn.execute(q, {"b": branch_id, "n": number}).first()
    if row is None:
        return None
    skills = {r.service_id: r.rank for r in conn.execute(_Q_ONE_COUNTER_SERVICES, {"c": row.id})}
    return _counter(row, skills)


def get_counter_by_id(conn: Connection, counter_id: int) -> Counter | None:
    row = conn.execute(_Q_COUNTER_BY_ID, {"id": counter_id}).first()
    if row is None:
        return None
    skills = {r.service_id: r.rank for r in conn.execute(_Q_ONE_COUNTER_SERVICES, {"c": row.id})}
    return _counter(row, skills)


# the guard: the row is written only if nobody wrote it since it was read (its
# version); the optimistic write path relies on it, and the race tests remove it
# on purpose to show they catch a double call
_COUNTER_GUARD = s.counters.c.version == bindparam("expect")
_U_COUNTER = (update(s.counters)
              .where(s.counters.c.id == bindparam("c_id"), _COUNTER_GUARD)
              .values(state=bindparam("state"), current_ticket_id=bindparam("current"),
                      priority_streak=bindparam("streak"), updated_at=bindparam("at"),
                      version=bindparam("version")))
_U_COUNTER_AGENT = _U_COUNTER.values(agent_user_id=bindparam("agent"))


def save_counter(conn: Connection, before: Counter, after: Counter, at: datetime,
                 agent_user_id: int | None | bool = False) -> bool:
    """Write the counter if it is still as it was read (same version). ``after``
    must carry ``version = before.version + 1``."""
    params = {"c_id": after.id, "expect": before.version, "state": after.state.value,
              "current": after.current_ticket_id, "streak": after.priority_streak, "at": at,
              "version": after.version}
    if agent_user_id is not False:
        res = conn.execute(_U_COUNTER_AGENT, {**params, "agent": agent_user_id})
    else:
        res = conn.execute(_U_COUNTER, params)
    return res.rowcount == 1


# --- tickets -------------------------------------------------------------------

def ticket_from_row(r) -> Ticket:
    return _ticket(r)


def _ticket(r) -> Ticket:
    return Ticket(
        id=r.id, service_id=r.service_id, number=r.number, code=r.code, day=r.day,
        status=TicketStatus(r.status), priority=PriorityClass(r.priority), channel=r.channel,
        language=r.language, issued_at=r.issued_at, queued_at=r.queued_at, front=bool(r.front),
        target_counter_id=r.target_counter_id, counter_id=r.counter_id, called_at=r.called_at,
        started_at=r.started_at, finished_at=r.finished_at, recall_count=r.recall_count,
        recycled=bool(r.recycled), transfer_count=r.transfer_count, outcome=r.outcome,
        note=r.note, version=r.version)


_Q_TICKET = select(s.tickets).where(s.tickets.c.branch_id == bindparam("b"),
                                    s.tickets.c.id == bindparam("id"))
_Q_TICKET_BY_KEY = select(s.tickets).where(s.tickets.c.branch_id == bindparam("b"),
                                           s.tickets.c.idempotency_key == bindparam("k"))
# the live queue is read on every issue and call: only what ordering and the
# waiting lists need (a full row costs three times as much to fetch and build)
_WAITING_COLS = (s.tickets.c.id, s.tickets.c.service_id, s.tickets.c.number, s.tickets.c.code,
                 s.tickets.c.day, s.tickets.c.priority, s.tickets.c.language,
                 s.tickets.c.issued_at, s.tickets.c.queued_at, s.tickets.c.front,
                 s.tickets.c.target_counter_id, s.tickets.c.counter_id,
                 s.tickets.c.recall_count, s.tickets.c.recycled, s.tickets.c.transfer_count,
                 s.tickets.c.channel, s.tickets.c.version)
_Q_WAITING = (select(*_WAITING_COLS).where(s.tickets.c.branch_id == bindparam("b"),
                                           s.tickets.c.status == "waiting")
              .order_by(s.tickets.c.id))
_Q_WAITING_IN = (select(*_WAITING_COLS).where(
    s.tickets.c.branch_id == bindparam("b"), s.tickets.c.status == "waiting",
    s.tickets.c.service_id.in_(bindparam("svc", expanding=True))).order_by(s.tickets.c.id))

_PRIORITIES = {p.value: p for p in PriorityClass}


def _waiting(r) -> Ticket:
    return Ticket(
        id=r[0], service_id=r[1], number=r[2], code=r[3], day=r[4],
        status=TicketStatus.WAITING, priority=_PRIORITIES[r[5]], channel=r[15],
        language=r[6], issued_at=r[7], queued_at=r[8], front=bool(r[9]),
        target_counter_id=r[10], counter_id=r[11], recall_count=r[12],
        recycled=bool(r[13]), transfer_count=r[14], version=r[16])
_Q_LIVE = select(s.tickets).where(s.tickets.c.branch_id == bindparam("b"),
                                  s.tickets.c.status.in_(["called", "serving", "parked"]))


def get_ticket(conn: Connection, branch_id: int, ticket_id: int) -> Ticket | None:
    row = conn.execute(_Q_TICKET, {"b": branch_id, "id": ticket_id}).first()
    return _ticket(row) if row else None


def printed_figures(conn: Connection, ticket_id: int) -> tuple[int | None, int | None]:
    """(estimated wait, people ahead) as printed on the ticket."""
    row = conn.execute(select(s.tickets.c.printed_wait_minutes, s.tickets.c.printed_people_ahead)
                       .where(s.tickets.c.id == ticket_id)).first()
    return (row[0], row[1]) if row else (None, None)


def ticket_by_key(conn: Connection, branch_id: int, key: str) -> Ticket | None:
    row = conn.execute(_Q_TICKET_BY_KEY, {"b": branch_id, "k": key}).first()
    return _ticket(row) if row else None


def waiting_tickets(conn: Connection, branch_id: int,
                    service_ids: list[int] | None = None) -> list[Ticket]:
    if service_ids is None:
        rows = conn.execute(_Q_WAITING, {"b": branch_id})
    else:
        rows = conn.execute(_Q_WAITING_IN, {"b": branch_id, "svc": list(service_ids)})
    return [_waiting(r) for r in rows]


def live_tickets(conn: Connection, branch_id: int) -> list[Ticket]:
    """Tickets at a counter or parked."""
    return [_ticket(r) for r in conn.execute(_Q_LIVE, {"b": branch_id})]


_TICKET_FIELDS = ("service_id", "number", "code", "day", "status", "priority", "channel",
                  "language", "issued_at", "queued_at", "front", "target_counter_id",
                  "counter_id", "called_at", "started_at", "finished_at", "recall_count",
                  "recycled", "transfer_count", "outcome", "note")


def _ticket_values(t: Ticket) -> dict:
    v = {f: getattr(t, f) for f in _TICKET_FIELDS}
    v["status"] = t.status.value
    v["priority"] = t.priority.value
    return v


_I_TICKET = insert(s.tickets).values(
    branch_id=bindparam("branch_id"), idempotency_key=bindparam("idempotency_key"),
    printed_wait_minutes=bindparam("printed_wait"), printed_people_ahead=bindparam("printed_ahead"),
    **{f: bindparam(f) for f in _TICKET_FIELDS}).returning(s.tickets.c.id)


def insert_ticket(conn: Connection, branch_id: int, t: Ticket, idempotency_key: str | None,
                  printed_wait: int | None = None, printed_ahead: int | None = None) -> int:
    return conn.execute(_I_TICKET, {"branch_id": branch_id, "idempotency_key": idempotency_key,
                                    "printed_wait": printed_wait, "printed_ahead": printed_ahead,
                                    **_ticket_values(t)}).scalar_one()


# A new ticket and its one event in one statement (PostgreSQL runs the WITH's INSERT
# first and hands its id to the event row): one round trip fewer while the issuing
# transaction holds the branch's sequence lock. SQLite has no INSERT inside a WITH;
# its statements cost no round trip, so it keeps two.
_NEW_TICKET = _I_TICKET.cte("new_ticket")
_EVENT_COLUMNS = ("branch_id", "seq", "type", "at", "actor", "ticket_id", "counter_id",
                  "service_id", "data")
_I_TICKET_AND_EVENT = insert(s.events).from_select(
    list(_EVENT_COLUMNS),
    select(*(_NEW_TICKET.c.id if c == "ticket_id"
             else bindparam("e_" + c, type_=s.events.c[c].type) for c in _EVENT_COLUMNS)),
).returning(s.events.c.ticket_id)


# the branch's event sequence moved by ``n``, returning where it landed (reserve_seq)
_U_EVENT_SEQ = (update(s.branches).where(s.branches.c.id == bindparam("b"))
                .values(event_seq=s.branches.c.event_seq + bindparam("n"))
                .returning(s.branches.c.event_seq))


def _with_bump(stmt):
    """``stmt`` with the branch's sequence moved by ``n`` in a WITH of its own, and
    where it landed returned as ``bumped``, for the caller to check."""
    bump = _U_EVENT_SEQ.cte("bump")
    return stmt.add_cte(bump).returning(
        select(bump.c.event_seq).scalar_subquery().label("bumped"))


# The same and the sequence moved, for a command of a group after the first (the lock
# held, the sequence known). Its parameters are all prefixed: SQLAlchemy adds a
# parameter named like a column to the SET of an UPDATE in the statement (the ticket's
# ``code`` would have become the branch's).
_NEW_TICKET_PREFIXED = insert(s.tickets).values(
    branch_id=bindparam("t_branch_id"), idempotency_key=bindparam("t_idempotency_key"),
    printed_wait_minutes=bindparam("t_printed_wait"),
    printed_people_ahead=bindparam("t_printed_ahead"),
    **{f: bindparam("t_" + f) for f in _TICKET_FIELDS}).returning(s.tickets.c.id).cte("new_ticket")
_I_TICKET_AND_EVENT_BUMPED = _with_bump(insert(s.events).from_select(
    list(_EVENT_COLUMNS),
    select(*(_NEW_TICKET_PREFIXED.c.id if c == "ticket_id"
             else bindparam("e_" + c, type_=s.events.c[c].type) for c in _EVENT_COLUMNS)),
).returning(s.events.c.ticket_id))


def insert_issued(conn: Connection, branch_id: int, t: Ticket, idempotency_key: str | None,
                  printed_wait: int | None, printed_ahead: int | None, seq: int,
                  event: Event, bump: int = 0) -> tuple[int, bool, int | None]:
    """Insert a new ticket and, on PostgreSQL, its event (numbered ``seq``, its
    ``ticket_id`` the new ticket's id). Returns the ticket's id, whether the event
    was written (on SQLite it goes with the command's other events, in one statement)
    and, with ``bump`` (PostgreSQL: the lock held, the sequence not yet moved past the
    command's events), the sequence the same statement moved it to."""
    if conn.dialect.name == "sqlite":
        return insert_ticket(conn, branch_id, t, idempotency_key, printed_wait,
                             printed_ahead), False, None
    params = {"branch_id": branch_id, "idempotency_key": idempotency_key,
              "printed_wait": printed_wait, "printed_ahead": printed_ahead,
              **_ticket_values(t)}
    events = {"e_" + k: v for k, v in _event_values(branch_id, seq, event).items()
              if k != "ticket_id"}
    if not bump:
        return conn.execute(_I_TICKET_AND_EVENT, {**params, **events}).scalar_one(), True, None
    tid, bumped = conn.execute(_I_TICKET_AND_EVENT_BUMPED, {
        "b": branch_id, "n": bump, **events,
        **{"t_" + k: v for k, v in params.items()}}).one()
    return tid, True, bumped


# the guard (see _COUNTER_GUARD): of two counters racing for one ticket, one wins
_TICKET_GUARD = s.tickets.c.version == bindparam("expect")
_U_TICKET = (update(s.tickets)
             .where(s.tickets.c.id == bindparam("t_id"), _TICKET_GUARD)
             .values(version=bindparam("version"), **{f: bindparam(f) for f in _TICKET_FIELDS}))


def save_ticket(conn: Connection, before: Ticket, after: Ticket) -> bool:
    """Write the ticket if it is still as it was read (same version). ``after`` must
    carry ``version = before.version + 1``."""
    res = conn.execute(_U_TICKET, {"t_id": after.id, "expect": before.version,
                                   "version": after.version, **_ticket_values(after)})
    return res.rowcount == 1


_Q_TICKETS_BY_ID = select(s.tickets).where(s.tickets.c.branch_id == bindparam("b"),
                                           s.tickets.c.id.in_(bindparam("ids", expanding=True)))


def tickets_by_ids(conn: Connection, branch_id: int, ids) -> list[Ticket]:
    ids = list(ids)
    if not ids:
        return []
    return [_ticket(r) for r in conn.execute(_Q_TICKETS_BY_ID, {"b": branch_id, "ids": ids})]


# --- numbering -------------------------------------------------------------------

_U_SEQ = (update(s.ticket_sequences)
          .where(s.ticket_sequences.c.branch_id == bindparam("b"),
                 s.ticket_sequences.c.service_id == bindparam("svc"),
                 s.ticket_sequences.c.day == bindparam("d"))
          .values(last=s.ticket_sequences.c.last + 1)
          .returning(s.ticket_sequences.c.last))
_I_SEQ = insert(s.ticket_sequences).values(
    branch_id=bindparam("b"), service_id=bindparam("svc"), day=bindparam("d"),
    last=bindparam("last"))
_Q_CARRIED = select(s.tickets.c.number).where(
    s.tickets.c.branch_id == bindparam("b"), s.tickets.c.service_id == bindparam("svc"),
    s.tickets.c.status == "waiting", s.tickets.c.day < bindparam("d"))


def next_number(conn: Connection, branch_id: int, service_id: int, day: str,
                first_number) -> int:
    """Take the next number of a service's day. The row update holds the row lock
    until commit, so numbers have no gaps and no duplicates; a rolled-back
    ticket gives its number back."""
    params = {"b": branch_id, "svc": service_id, "d": day}
    got = conn.execute(_U_SEQ, params).scalar()
    if got is not None:
        return got
    carried = [r[0] for r in conn.execute(_Q_CARRIED, params)]
    start = first_number(carried) + 1
    nested = conn.begin_nested() if conn.dialect.name != "sqlite" else None
    try:
        conn.execute(_I_SEQ, {**params, "last": start})
        if nested is not None:
            nested.commit()
        return start
    except Exception:
        if nested is None:
            raise
        nested.rollback()  # another process created the day's row first
        return conn.execute(_U_SEQ, params).scalar()


# --- events ------------------------------------------------------------------------

_I_EVENT = insert(s.events)


def reserve_seq(conn: Connection, branch_id: int, n: int) -> int:
    """Take ``n`` numbers of the branch's event sequence; returns the last one taken.

    The update holds the branch row's lock until commit (PostgreSQL; SQLite's
    writer holds the file): the branch's event-writing transactions commit one
    after the other, in sequence order. With ``n = 0`` it only locks and reads."""
    return conn.execute(_U_EVENT_SEQ, {"b": branch_id, "n": n}).scalar()


def _event_values(branch_id: int, seq: int, e: Event) -> dict:
    return {"branch_id": branch_id, "seq": seq, "type": e.type, "at": e.at,
            "actor": e.actor.label, "ticket_id": e.ticket_id, "counter_id": e.counter_id,
            "service_id": e.service_id, "data": e.data}


def insert_events(conn: Connection, branch_id: int, first: int,
                  events: list[Event]) -> list[tuple[int, Event]]:
    rows = [_event_values(branch_id, first + i, e) for i, e in enumerate(events)]
    if rows:
        conn.execute(_I_EVENT, rows)
    return [(first + i, e) for i, e in enumerate(events)]


def insert_events_locked(conn: Connection, branch_id: int, first: int,
                         events: list[Event]) -> list[tuple[int, Event]]:
    """PostgreSQL, the branch's lock held since its sequence read ``first - 1``: move
    the sequence past ``events`` and insert them, in ONE statement (an UPDATE in a
    WITH, then the INSERT): a round trip less than reserve_seq + insert_events, on
    every counter step. None (the caller rolls back) when the sequence was not at
    ``first - 1``."""
    if not events:
        return []
    if conn.dialect.name == "sqlite":  # no UPDATE in a WITH: two statements
        reserve_seq(conn, branch_id, len(events))
        return insert_events(conn, branch_id, first, events)
    stmt = _LOCKED_INSERTS.get(len(events))
    if stmt is None:
        stmt = _LOCKED_INSERTS[len(events)] = _with_bump(_events_insert(len(events)))
    params: dict = {"b": branch_id, "n": len(events)}
    for i, e in enumerate(events):
        params.update({f"e{i}_{k}": v for k, v in _event_values(branch_id, first + i, e).items()})
    if conn.execute(stmt, params).first()[0] != first + len(events) - 1:
        return None  # the sequence was not at first - 1: the caller rolls back
    return [(first + i, e) for i, e in enumerate(events)]


_LOCKED_INSERTS: dict = {}  # events a statement -> insert_events_locked's statement


def _events_insert(n: int):
    """INSERT of ``n`` events, parameters ``e{i}_{column}``. As INSERT ... SELECT, not a
    multi-row VALUES: SQLAlchemy (2.0) gives a multi-row VALUES no cache key, so such a
    statement was compiled again at every execution (measured: ~30 % of a PostgreSQL
    server's CPU on counter steps, py-spy)."""
    rows = [select(*(bindparam(f"e{i}_{c}", type_=s.events.c[c].type) for c in _EVENT_COLUMNS))
            for i in range(n)]
    return insert(s.events).from_select(list(_EVENT_COLUMNS),
                                        rows[0] if n == 1 else union_all(*rows))


# A counter step on PostgreSQL, under the branch's lock: the guarded rows, the sequence
# and the events in ONE statement (each UPDATE and the INSERT a WITH of their own; a
# SELECT counts the rows each guard matched). Was one round trip for the ticket, one
# for the counter, one for the events: each waited a turn of a busy server's loop
# while the branch's other writers waited for the lock (bench-national). A statement
# a shape (how many tickets, counters, events; whether the agent changes), built once.
_STEP_SHAPES: dict = {}


def _step_statement(tickets: int, counters: tuple, events: int):
    key = (tickets, counters, events)
    stmt = _STEP_SHAPES.get(key)
    if stmt is not None:
        return stmt
    guards, ctes = [], []
    for i in range(tickets):
        ctes.append(guard := update(s.tickets)
                    .where(s.tickets.c.id == bindparam(f"t{i}_id"),
                           s.tickets.c.version == bindparam(f"t{i}_expect"))
                    .values(version=bindparam(f"t{i}_version"),
                            **{f: bindparam(f"t{i}_{f}", type_=s.tickets.c[f].type)
                               for f in _TICKET_FIELDS})
                    .returning(s.tickets.c.id).cte(f"t{i}"))
        guards.append(guard)
    for i, agent in enumerate(counters):
        values = {"state": bindparam(f"c{i}_state"), "current_ticket_id": bindparam(f"c{i}_current"),
                  "priority_streak": bindparam(f"c{i}_streak"), "updated_at": bindparam(f"c{i}_at"),
                  "version": bindparam(f"c{i}_version")}
        if agent:
            values["agent_user_id"] = bindparam(f"c{i}_agent", type_=s.counters.c.agent_user_id.type)
        ctes.append(guard := update(s.counters)
                    .where(s.counters.c.id == bindparam(f"c{i}_id"),
                           s.counters.c.version == bindparam(f"c{i}_expect"))
                    .values(**values).returning(s.counters.c.id).cte(f"c{i}"))
        guards.append(guard)
    columns = [select(func.count()).select_from(g).scalar_subquery() for g in guards]
    if not guards:
        raise ValueError("a step writes a ticket or a counter at least")
    if events:
        ctes.append(bump := _U_EVENT_SEQ.cte("bump"))
        ctes.append(_events_insert(events).returning(s.events.c.seq).cte("ev"))
        columns.append(select(bump.c.event_seq).scalar_subquery())  # where it moved to
    stmt = select(*columns).add_cte(*ctes)
    _STEP_SHAPES[key] = stmt
    return stmt


def save_step_locked(conn: Connection, branch_id: int, tickets: list, counters: list,
                     first: int, events: list[Event]) -> list[tuple[int, Event]] | None:
    """PostgreSQL, the branch's lock held since its sequence read ``first - 1``: write
    ``tickets`` ((before, after) each, guarded by the before's version, as
    ``save_ticket``), ``counters`` ((before, after, at, agent) each, as
    ``save_counter``; agent False: unchanged), move the sequence past ``events`` and
    insert them, in one statement. Returns the numbered events, or None when a guard
    matched nothing or the sequence was not at ``first - 1`` (the caller rolls back:
    nothing of it may be kept)."""
    stmt = _step_statement(len(tickets), tuple(agent is not False for *_r, agent in counters),
                           len(events))
    params: dict = {"b": branch_id, "n": len(events)}
    for i, (before, after) in enumerate(tickets):
        params.update({f"t{i}_{k}": v for k, v in _ticket_values(after).items()})
        params.update({f"t{i}_id": after.id, f"t{i}_expect": before.version,
                       f"t{i}_version": after.version})
    for i, (before, after, at, agent) in enumerate(counters):
        params.update({f"c{i}_id": after.id, f"c{i}_expect": before.version,
                       f"c{i}_state": after.state.value, f"c{i}_current": after.current_ticket_id,
                       f"c{i}_streak": after.priority_streak, f"c{i}_at": at,
                       f"c{i}_version": after.version})
        if agent is not False:
            params[f"c{i}_agent"] = agent
    for i, e in enumerate(events):
        params.update({f"e{i}_{k}": v for k, v in _event_values(branch_id, first + i, e).items()})
    matched = conn.execute(stmt, params).one()
    if any(n != 1 for n in matched[:len(tickets) + len(counters)]):
        return None
    if events and matched[-1] != first + len(events) - 1:
        return None  # the sequence was not at first - 1
    return [(first + i, e) for i, e in enumerate(events)]


def append_events(conn: Connection, branch_id: int, events: list[Event]) -> list[tuple[int, Event]]:
    """Append events in the caller's transaction; returns them with their branch sequence."""
    if not events:
        return []
    last = reserve_seq(conn, branch_id, len(events))
    return insert_events(conn, branch_id, last - len(events) + 1, events)


_Q_EVENTS_SINCE = (select(s.events).where(s.events.c.branch_id == bindparam("b"),
                                          s.events.c.seq > bindparam("after"))
                   .order_by(s.events.c.seq))


def event_from_row(r) -> Event:
    kind, _, rest = (r.actor or "system:").partition(":")
    return Event(type=r.type, at=r.at, actor=Actor(kind, None, rest), ticket_id=r.ticket_id,
                 counter_id=r.counter_id, service_id=r.service_id, data=dict(r.data or {}))


def events_since(conn: Connection, branch_id: int, after: int) -> list[tuple[int, Event]]:
    return [(r.seq, event_from_row(r)) for r in conn.execute(
        _Q_EVENTS_SINCE, {"b": branch_id, "after": after})]


_Q_SEQ = select(s.branches.c.event_seq).where(s.branches.c.id == bindparam("b"))


def current_seq(conn: Connection, branch_id: int) -> int:
    return conn.execute(_Q_SEQ, {"b": branch_id}).scalar() or 0


_Q_RECENT_CALLS = (select(s.events)
                   .where(s.events.c.branch_id == bindparam("b"),
                          s.events.c.type.in_(["ticket_called", "ticket_recalled"]),
                          s.events.c.at >= bindparam("since"))
                   .order_by(s.events.c.seq.desc()).limit(bindparam("n")))


def recent_calls(conn: Connection, branch_id: int, since: datetime, limit: int = 12) -> list:
    return list(conn.execute(_Q_RECENT_CALLS, {"b": branch_id, "since": since, "n": limit}))


_CALLS = ("ticket_called", "ticket_recalled")


def calls_without_announcement(conn: Connection, branch_ids: list[int] | None,
                               since: datetime, until: datetime) -> list[tuple[int, int, Event]]:
    """(branch id, seq, event) of the calls and recalls made between ``since`` and
    ``until`` that have no announcement row, in each branch's order; every branch when
    ``branch_ids`` is None. Read through the (branch, type, at) index of the events and
    the (branch, seq) key of the announcements."""
    if branch_ids is None:
        branch_ids = [r[0] for r in conn.execute(select(s.branches.c.id))]
    if not branch_ids:
        return []
    e, a = s.events, s.announcements
    announced = (select(a.c.id).where(a.c.branch_id == e.c.branch_id, a.c.seq == e.c.seq)
                 .exists())
    q = (select(e).where(e.c.branch_id.in_(branch_ids), e.c.type.in_(_CALLS),
                         e.c.at >= since, e.c.at <= until, ~announced)
         .order_by(e.c.branch_id, e.c.seq))
    return [(r.branch_id, r.seq, event_from_row(r)) for r in conn.execute(q)]


_Q_DURATIONS = (select(s.tickets.c.service_id, s.tickets.c.started_at, s.tickets.c.finished_at)
                .where(s.tickets.c.branch_id == bindparam("b"), s.tickets.c.status == "done",
                       s.tickets.c.started_at.is_not(None),
                       s.tickets.c.finished_at >= bindparam("since"))
                .order_by(s.tickets.c.finished_at.desc()).limit(200))


def recent_service_durations(conn: Connection, branch_id: int, since: datetime) -> dict:
    """service id -> recent service durations in seconds, oldest first."""
    out: dict[int, list[float]] = {}
    for r in conn.execute(_Q_DURATIONS, {"b": branch_id, "since": since}):
        out.setdefault(r.service_id, []).append((r.finished_at - r.started_at).total_seconds())
    return {k: v[::-1] for k, v in out.items()}


def ticket_events(conn: Connection, ticket_id: int) -> list:
    return list(conn.execute(select(s.events).where(s.events.c.ticket_id == ticket_id)
                             .order_by(s.events.c.seq)))


def count_tickets(conn: Connection, branch_id: int) -> int:
    return conn.execute(select(func.count()).select_from(s.tickets)
                        .where(s.tickets.c.branch_id == branch_id)).scalar()
