"""Alerts are facts of the branch: raising, clearing and acknowledging one are
commands, each an event written with its ``alerts`` row in one transaction, so
every server process sees them, the list survives a restart and who acknowledged
what is audited.

For other commands (printing: a printer out of paper, a job nobody printed):

    # on its own (its own transaction)
    commands.raise_alert(branch_id, "printer", "kiosk-1", {"printer": "kiosk-1",
                                                          "detail": "paper out"})
    commands.clear_alert(branch_id, "printer", "kiosk-1")

    # inside another command's step, in ITS transaction
    from queue_server.commands.alerts import raise_in, clear_in
    def step(uow, p):
        ...
        raise_in(uow, p, "print_job", job_id, {"printer": ..., "ticket": ..., "minutes": 2})

Both are idempotent: raising an alert that is open (same kind and key) does nothing
and returns None; clearing one that is not open does nothing and returns False. At
most one alert per (branch, kind, key) is open, enforced by a partial unique index,
so two processes raising the same breach at once store it once. Its text is the
message ``alert_<kind>`` with ``data`` as parameters (readmodel/alerts.py registers
``alert_printer`` {printer, detail} and ``alert_print_job`` {ticket, printer,
minutes}; register your own with ``engine.messages.register``). ``data`` must be
JSON (strings, numbers, a names dict {"ar", "fr", "en"}).
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..db import schema as s
from ..engine.errors import InvalidTransition, NotFound
from ..engine.messages import N_, register
from ..engine.model import Actor, Event

register({
    "alert_not_found": N_("There is no alert %(alert)s in this branch."),
    "alert_already_acknowledged": N_("Alert %(alert)s was already acknowledged by %(by)s."),
})

ALERTS = Actor("system", None, "alerts")
A = s.alerts.c


def _insert(conn):
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(s.alerts)


def raise_in(uow, p, kind: str, key: str, data: dict, actor: Actor = ALERTS) -> int | None:
    """Raise an alert inside the caller's unit of work. Returns its id, or None when
    one is already open for (kind, key)."""
    key = str(key)[:120]
    if p is not None and p.alerts.open(kind, key) is not None:
        return None  # known open: no write at all
    stmt = _insert(uow.conn).values(branch_id=uow.branch_id, kind=kind, key=key,
                                    data=dict(data), raised_at=uow.now)
    stmt = stmt.on_conflict_do_nothing(index_elements=[A.branch_id, A.kind, A.key],
                                       index_where=A.cleared_at.is_(None)).returning(A.id)
    alert_id = uow.conn.execute(stmt).scalar()
    if alert_id is None:
        return None  # another process raised it first
    uow.add(Event("alert_raised", uow.now, actor,
                  data={"alert_id": alert_id, "kind": kind, "key": key, "data": dict(data)}))
    return alert_id


def clear_in(uow, p, kind: str, key: str, data: dict | None = None,
             actor: Actor = ALERTS) -> bool:
    """Clear the open alert (kind, key) inside the caller's unit of work."""
    key = str(key)[:120]
    if p is not None and p.alerts.open(kind, key) is None:
        return False
    alert_id = uow.conn.execute(
        update(s.alerts).where(A.branch_id == uow.branch_id, A.kind == kind, A.key == key,
                               A.cleared_at.is_(None))
        .values(cleared_at=uow.now, cleared_data=dict(data or {})).returning(A.id)).scalar()
    if alert_id is None:
        return False
    uow.add(Event("alert_cleared", uow.now, actor,
                  data={"alert_id": alert_id, "kind": kind, "key": key, "data": dict(data or {})}))
    return True


class AlertCommands:
    writer: object

    def raise_alert(self, branch_id: int, kind: str, key: str, data: dict,
                    actor: Actor = ALERTS) -> int | None:
        if self.writer.projections.get(branch_id).alerts.open(kind, str(key)[:120]):
            return None  # the common case, decided without a transaction
        return self.writer.run(branch_id, lambda uow, p: raise_in(uow, p, kind, key, data,
                                                                  actor))[0]

    def clear_alert(self, branch_id: int, kind: str, key: str, data: dict | None = None,
                    actor: Actor = ALERTS) -> bool:
        if not self.writer.projections.get(branch_id).alerts.open(kind, str(key)[:120]):
            return False
        return self.writer.run(branch_id, lambda uow, p: clear_in(uow, p, kind, key, data,
                                                                  actor))[0]

    def acknowledge_alert(self, branch_id: int, alert_id: int, actor: Actor) -> None:
        """A manager saw it. Open or cleared, an alert is acknowledged once."""
        def step(uow, p):
            row = uow.conn.execute(select(A.id, A.kind, A.key, A.acknowledged_by).where(
                A.id == alert_id, A.branch_id == uow.branch_id)).first()
            if row is None:
                raise NotFound("alert_not_found", alert=alert_id)
            done = uow.conn.execute(
                update(s.alerts).where(A.id == alert_id, A.acknowledged_at.is_(None))
                .values(acknowledged_at=uow.now, acknowledged_by=actor.name)).rowcount
            if done != 1:
                raise InvalidTransition("alert_already_acknowledged", alert=alert_id,
                                        by=row.acknowledged_by or "?")
            uow.add(Event("alert_acknowledged", uow.now, actor,
                          data={"alert_id": alert_id, "kind": row.kind, "key": row.key,
                                "by": actor.name}))
        self.writer.run(branch_id, step)
