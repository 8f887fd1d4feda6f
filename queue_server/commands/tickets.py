"""Ticket commands: issue, call, the steps at a counter, cancel, close the day."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from ..db import repo
from ..engine import lifecycle, numbering, schedule
from ..engine.errors import DomainError, InvalidTransition, NotAllowed, NotFound
from ..engine.model import Actor, PriorityClass, Ticket, TicketStatus
from ..readmodel import presenters
from .uow import Stale

# visitors' channels: a service nobody staffs is not offered to them
VISITOR_CHANNELS = ("kiosk", "phone")


@dataclass(frozen=True)
class PrintTarget:
    """Print the new ticket on this printer; its QR opens ``base_url``/t/<ref>."""

    printer: str
    base_url: str


@dataclass(frozen=True)
class Issued:
    ticket: Ticket
    created: bool  # False when an idempotency key matched an earlier request
    people_ahead: int | None  # as printed on the ticket
    minutes: int | None  # the estimate printed on the ticket
    printing: dict | None = None  # {"public_ref", "job"} when it was sent to a printer
    estimate: object = None  # the estimate behind ``minutes`` (mean, low, high)


class TicketCommands:
    writer: object
    estimator: object

    # --- issue --------------------------------------------------------------------

    def issue(self, branch_id: int, service_prefix: str, priority: PriorityClass,
              language: str, channel: str, actor: Actor, idempotency_key: str | None = None,
              print_to: PrintTarget | None = None) -> Issued:
        def first_number(p):
            return lambda carried: numbering.first_number_of_day(p.policy, carried)

        def number_early(uow, p):
            """The service's next number before the branch's lock (its own row lock):
            on PostgreSQL one round trip fewer inside the branch's lock."""
            service = p.service_by_prefix(service_prefix) if p is not None else None
            if service is None:
                return None
            return (p.config, service.id, p.day, repo.next_number(
                uow.conn, branch_id, service.id, p.day, first_number(p)))

        def step(uow, p, early):
            if language not in p.branch.languages:
                raise NotAllowed("language_not_offered", language=language,
                                 choices=p.branch.languages)
            service = p.service_by_prefix(service_prefix)
            if service is None:
                raise NotFound("service_not_found", service=service_prefix)
            if channel in VISITOR_CHANNELS and (service.cutoff or p.branch.schedule.set):
                # opening hours and the service's cut-off: when to come back
                schedule.check_issue(p.branch.schedule, service, _local(uow.now, p), p.day)
            if channel in VISITOR_CHANNELS and service.open_on(p.day) \
                    and presenters.staffed(p, service.id) == 0:
                raise NotAllowed("service_unstaffed", service=service.prefix,
                                 service_name=service.names)
            if early is None:
                number = repo.next_number(uow.conn, branch_id, service.id, p.day,
                                          first_number(p))
            elif early[0] is not p.config or early[1:3] != (service.id, p.day):
                # the configuration or the day moved between the two reads: number again
                raise Stale("the branch changed before its lock")
            else:
                number = early[3]
            change = lifecycle.issue(service, number, p.day, priority, channel, language,
                                     uow.now, actor)
            ahead = p.index.people_ahead(change.ticket, p.counter_list(), uow.now)
            estimate = self.estimator.estimate(p, change.ticket, ahead, uow.now)
            minutes = estimate.printed
            (event,) = change.events  # "ticket_issued"
            ticket = uow.insert_issued(change.ticket, replace(
                event, data={**event.data, "people_ahead": ahead,
                             "estimated_wait_minutes": minutes}),
                idempotency_key, minutes, ahead)
            printing = None
            if print_to is not None:
                printing = self.print_ticket(uow, p, ticket, ahead, minutes, print_to)
            return Issued(ticket, True, ahead, minutes, printing, estimate)

        self.estimator.warm(branch_id)  # not inside the transaction (estimates.py)
        try:
            issued, _batch = self.writer.run(branch_id, step, exact=True, early=number_early,
                                             events=2 if print_to is not None else 1,
                                             group=True)
            return issued
        except IntegrityError:
            if not idempotency_key:
                raise
        # the same tap arrived twice (a retry after a lost answer): the first one won
        return self.earlier_issue(branch_id, idempotency_key, print_to)

    def earlier_issue(self, branch_id: int, key: str, print_to: PrintTarget | None) -> Issued:
        with self.writer.db.read() as conn:
            t = repo.ticket_by_key(conn, branch_id, key)
            printed = repo.printed_figures(conn, t.id) if t else (None, None)
        if t is None:
            raise InvalidTransition("ticket_changed", ticket=key)
        printing = self.ticket_printing(branch_id, t, print_to) if print_to else None
        return Issued(t, False, printed[1], printed[0], printing)

    def earlier(self, branch_id: int, key: str) -> Ticket | None:
        with self.writer.db.read() as conn:
            return repo.ticket_by_key(conn, branch_id, key)

    # --- call -----------------------------------------------------------------------

    def call_next(self, branch_id: int, counter_number: int, actor: Actor) -> Ticket | None:
        """The one ordering rule picks the ticket from the projection. On SQLite
        outside the write lock: the write is guarded by the versions of the ticket and
        the counter, so of two counters that picked the same ticket one wins and the
        other picks again. On PostgreSQL under the branch's lock, on the exact queue
        (writer.py: several processes write one branch). When nobody waits, no write
        transaction at all (``_nobody_waits``)."""
        def choose(p, now):
            row = _counter_row(p, counter_number)
            lifecycle.guard_counter(row.counter, "take")
            return row, p.index.next_for(row.counter, now)

        if self._nobody_waits(branch_id, choose):
            return None

        def step(uow, p, chosen):
            row, ticket = chosen
            if ticket is None:
                # "nobody waits" writes nothing, so no guard would catch a projection that
                # missed a ticket (another process's batch still on its way, the message
                # queue down): ask the database whether anything happened since (under
                # the branch's lock the projection is at the lock's sequence already)
                if uow.locked_seq is None and repo.current_seq(uow.conn, p.branch.id) > p.seq:
                    raise Stale("the branch moved since the projection")
                return None
            change = lifecycle.call(row.counter, ticket, p.policy, uow.now, actor, p.day)
            return uow.record(change, ticket, row).ticket
        return self.writer.run(branch_id, step, prepare=choose,
                               exact=self.writer.lock_first, group=True)[0]

    def _nobody_waits(self, branch_id: int, choose) -> bool:
        """True when this process's projection has nobody for the counter and the
        database's event sequence says nothing happened since it: then the answer
        ("nobody waits") needs one read, not a write transaction. On PostgreSQL that
        transaction took the branch's lock, wrote a row version and flushed the WAL
        each time an idle agent pressed "call next": 41 % of bench-national's commands
        at 1x (948 of ~2,300 in 40 s). A projection ahead of the database (a group's
        batch not committed yet) or behind it (another process's batch on its way)
        fails the check and the command runs as before. A counter that may not call
        (closed, paused, holding a ticket) goes the usual way too, to its refusal."""
        p = self.writer.projections.held(branch_id)
        if p is None:
            return False
        seq = p.seq
        try:
            _row, ticket = choose(p, self.writer.clock())
        except DomainError:
            return False
        if ticket is not None or p.seq != seq:
            return False
        with self.writer.db.read_one() as conn:
            if repo.current_seq(conn, branch_id) != seq:
                return False
        self.writer.stats["commands"] += 1  # a command all the same, answered by a read
        self.writer.stats["nobody_waits"] += 1
        return True

    def call(self, branch_id: int, counter_number: int, ticket_id: int, actor: Actor) -> Ticket:
        """Call one given waiting ticket (a replayed day; an agent picking a ticket)."""
        def step(uow, p):
            row = _counter_row(p, counter_number)
            ticket = _ticket(uow, p, ticket_id)
            change = lifecycle.call(row.counter, ticket, p.policy, uow.now, actor, p.day)
            return uow.record(change, ticket, row).ticket
        return self.writer.run(branch_id, step, exact=self.writer.lock_first, group=True)[0]

    # --- steps at a counter -----------------------------------------------------------

    def _at_counter(self, branch_id: int, counter_number: int, ticket_id: int | None,
                    decide: Callable) -> Ticket:
        def step(uow, p):
            row = _counter_row(p, counter_number)
            tid = ticket_id
            if tid is None:
                tid = row.counter.current_ticket_id
                if tid is None:
                    raise InvalidTransition("no_current_ticket", counter=counter_number)
            ticket = _ticket(uow, p, tid)
            change = decide(p, row.counter, ticket, uow.now)
            return uow.record(change, ticket, row if change.counter is not None else None).ticket
        return self.writer.run(branch_id, step, exact=self.writer.lock_first, group=True)[0]

    def recall(self, branch_id, counter_number, actor, ticket_id=None) -> Ticket:
        return self._at_counter(branch_id, counter_number, ticket_id,
                                lambda p, c, t, now: lifecycle.recall(c, t, now, actor))

    def start(self, branch_id, counter_number, actor, ticket_id=None) -> Ticket:
        return self._at_counter(branch_id, counter_number, ticket_id,
                                lambda p, c, t, now: lifecycle.start(c, t, now, actor))

    def finish(self, branch_id, counter_number, actor, outcome, note=None,
               ticket_id=None) -> Ticket:
        return self._at_counter(
            branch_id, counter_number, ticket_id,
            lambda p, c, t, now: lifecycle.finish(c, t, outcome, note, now, actor,
                                                  p.branch.outcomes))

    def no_show(self, branch_id, counter_number, actor, ticket_id=None) -> Ticket:
        return self._at_counter(branch_id, counter_number, ticket_id,
                                lambda p, c, t, now: lifecycle.no_show(c, t, p.policy, now, actor))

    def park(self, branch_id, counter_number, actor, ticket_id=None) -> Ticket:
        return self._at_counter(branch_id, counter_number, ticket_id,
                                lambda p, c, t, now: lifecycle.park(c, t, now, actor))

    def return_parked(self, branch_id, counter_number, actor, ticket_id) -> Ticket:
        return self._at_counter(branch_id, counter_number, ticket_id,
                                lambda p, c, t, now: lifecycle.return_parked(c, t, now, actor))

    def transfer(self, branch_id, counter_number, actor, to_service: str | None = None,
                 to_counter: int | None = None, ticket_id=None) -> Ticket:
        def decide(p, counter, ticket, now):
            target_service = target_counter = None
            if to_service is not None:
                target_service = p.service_by_prefix(to_service)
                if target_service is None:
                    raise NotFound("service_not_found", service=to_service)
            if to_counter is not None:
                target_counter = p.counter_by_number(to_counter)
                if target_counter is None:
                    raise NotFound("counter_not_found", counter=to_counter)
            return lifecycle.transfer(counter, ticket, p.policy, now, actor, target_service,
                                      target_counter)
        return self._at_counter(branch_id, counter_number, ticket_id, decide)

    # --- cancel and the end of the day ----------------------------------------------------

    def cancel(self, branch_id: int, ticket_id: int, actor: Actor, reason: str = "") -> Ticket:
        def step(uow, p):
            ticket = _ticket(uow, p, ticket_id)
            row = None
            if ticket.status is TicketStatus.CALLED and ticket.counter_id is not None:
                row = p.counters.get(ticket.counter_id)
            change = lifecycle.cancel(ticket, row.counter if row else None, uow.now, actor,
                                      reason)
            return uow.record(change, ticket, row if change.counter is not None else None).ticket
        return self.writer.run(branch_id, step)[0]

    def expire_day(self, branch_id: int) -> int:
        """Cancel tickets left from an earlier branch day (unless kept overnight), and
        close the counters an earlier day left open: nobody works across the rollover,
        and a counter open overnight is no open hours. Returns how many of both."""
        rollover = Actor("system", None, "rollover")
        # housekeeping asks every branch once a minute and nearly always nothing is left:
        # that answer comes from the projection, without a transaction (a write
        # transaction per branch, back to back, held a 50-branch server's loop 2-9 ms
        # a branch every minute: the slowest calls of the displays bench). The step
        # checks again on the projection it decides on.
        if not any(_left_from_earlier_day(self.writer.projections.get(branch_id))):
            return 0

        def step(uow, p):
            left_open, old = _left_from_earlier_day(p)
            rows = dict(p.counters)
            done = 0
            if old:
                counters = {cid: r.counter for cid, r in p.counters.items()}
                changes = lifecycle.expire_day(old, dict(counters), p.day, uow.now, rollover)
                before = {t.id: t for t in old}
                for ch in changes:
                    row = rows.get(ch.ticket.counter_id) if ch.counter is not None else None
                    uow.record(ch, before[ch.ticket.id], row)
                    if row is not None:
                        rows[row.counter.id] = uow.counters[row.counter.id]
                done += len(changes)
            for cid in left_open:
                row = rows[cid]
                if row.counter.state.value in ("open", "paused"):  # not still serving
                    ch = lifecycle.counter_action(row.counter, "close", uow.now, rollover)
                    uow.record(ch, None, row, None)
                    done += 1
            return done
        return self.writer.run(branch_id, step)[0]


def _left_from_earlier_day(p) -> tuple[list, list]:
    """What an earlier branch day left: the counters still open since then, and the
    tickets still waiting or live from it (none when tickets are kept overnight)."""
    left_open = [cid for cid, r in p.counters.items()
                 if r.counter.state.value != "closed" and r.since is not None
                 and p.day_of(r.since) < p.day]
    old = [] if p.policy.keep_overnight else \
        [t for t in list(p.index.tickets.values()) + list(p.live.values()) if t.day < p.day]
    return left_open, old


def _local(now, p):
    return now.astimezone(ZoneInfo(p.branch.timezone))


def _counter_row(p, number: int):
    row = p.counter_row(number)
    if row is None:
        raise NotFound("counter_not_found", counter=number)
    return row


def _ticket(uow, p, ticket_id: int) -> Ticket:
    """A live ticket from the projection; a finished one from the database (it is
    not kept in memory), so its refusal names its real state."""
    t = p.ticket(ticket_id)
    if t is None:
        t = repo.get_ticket(uow.conn, p.branch.id, ticket_id)
    if t is None:
        raise NotFound("ticket_not_found", ticket=ticket_id)
    return t
