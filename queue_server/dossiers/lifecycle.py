"""The dossier lifecycle: one table, one guard. Pure: time passed in; returns
the new dossier and the events that record the change; never stores or emits.

    deposited -> received -> in_review -> accepted -> paid -> closed
                                 |  ^         \\________________/^
                                 v  |  (documents brought)
                              incomplete
    in_review / incomplete -> rejected (with a reason)

A change that skips a step (deposited -> accepted) is refused with a message
that says which step comes first.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from ..engine.errors import InvalidTransition, NotAllowed
from ..engine.model import Actor, Event


class DossierStatus(str, enum.Enum):
    DEPOSITED = "deposited"
    RECEIVED = "received"
    IN_REVIEW = "in_review"
    INCOMPLETE = "incomplete"
    ACCEPTED = "accepted"
    PAID = "paid"
    CLOSED = "closed"
    REJECTED = "rejected"

    @property
    def is_open(self) -> bool:
        return self not in (DossierStatus.PAID, DossierStatus.CLOSED, DossierStatus.REJECTED)


S = DossierStatus

# action -> (states it may start from, state it ends in)
TRANSITIONS: dict[str, tuple[frozenset, S]] = {
    "receive": (frozenset({S.DEPOSITED}), S.RECEIVED),
    "review": (frozenset({S.RECEIVED, S.INCOMPLETE}), S.IN_REVIEW),
    "incomplete": (frozenset({S.IN_REVIEW}), S.INCOMPLETE),
    "accept": (frozenset({S.IN_REVIEW}), S.ACCEPTED),
    "pay": (frozenset({S.ACCEPTED}), S.PAID),
    "close": (frozenset({S.ACCEPTED, S.PAID}), S.CLOSED),
    "reject": (frozenset({S.IN_REVIEW, S.INCOMPLETE}), S.REJECTED),
}
ACTIONS = tuple(TRANSITIONS)
EVENT_OF = {"receive": "dossier_received", "review": "dossier_in_review",
            "incomplete": "dossier_incomplete", "accept": "dossier_accepted",
            "pay": "dossier_paid", "close": "dossier_closed", "reject": "dossier_rejected"}
STAMP = {"receive": "received_at", "review": "review_at", "incomplete": "review_at",
         "accept": "decided_at", "reject": "decided_at", "pay": "paid_at", "close": "closed_at"}

_VERBS = {"receive": "mark as received", "review": "start the review of",
          "incomplete": "mark as incomplete", "accept": "accept", "pay": "mark as paid",
          "close": "close", "reject": "reject"}
_STATE_WORDS = {S.DEPOSITED: "was deposited but not received yet",
                S.RECEIVED: "was received but its review has not started",
                S.IN_REVIEW: "is in review", S.INCOMPLETE: "is incomplete",
                S.ACCEPTED: "was accepted", S.PAID: "was paid", S.CLOSED: "is closed",
                S.REJECTED: "was rejected"}
# what must happen first, for the "skipped a step" message
_FIRST = {S.DEPOSITED: "mark it as received", S.RECEIVED: "start the review",
          S.IN_REVIEW: "accept it, reject it or mark it incomplete",
          S.INCOMPLETE: "start the review again when the documents arrive, or reject it",
          S.ACCEPTED: "mark it as paid or close it"}


@dataclass(frozen=True)
class Dossier:
    id: int | None
    tracking: str
    type_code: str
    status: DossierStatus
    insured_number: str  # full: the back office needs it to find the insured's account
    insured_masked: str
    national_id_hash: str | None
    national_id_masked: str | None
    language: str
    channel: str  # kiosk | counter
    day: str  # branch day of the deposit
    deposited_at: datetime
    declared: tuple = ()  # document codes the visitor ticked
    missing: tuple = ()  # document codes missing (declared at deposit, or set by staff)
    event_date: date | None = None
    deadlines: tuple = ()  # DeadlineCheck.view() dicts at deposit
    box: str = "B"
    ticket_id: int | None = None
    received_at: datetime | None = None
    review_at: datetime | None = None
    decided_at: datetime | None = None
    paid_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Change:
    dossier: Dossier
    events: list = field(default_factory=list)


def guard(dossier: Dossier, action: str) -> S:
    if action not in TRANSITIONS:
        raise NotAllowed(f"Unknown dossier action '{action}': use one of {', '.join(ACTIONS)}.",
                         action=action)
    allowed, target = TRANSITIONS[action]
    if dossier.status not in allowed:
        msg = (f"Cannot {_VERBS[action]} dossier {dossier.tracking}: it "
               f"{_STATE_WORDS[dossier.status]}.")
        if dossier.status in _FIRST:
            msg += f" First {_FIRST[dossier.status]}."
        raise InvalidTransition(msg, tracking=dossier.tracking, status=dossier.status.value,
                                action=action)
    return target


def _event(kind: str, d: Dossier, at: datetime, actor: Actor, **data) -> Event:
    # no full identity number in an event: events are exported and logged
    return Event(type=kind, at=at, actor=actor, ticket_id=d.ticket_id,
                 data={"dossier_id": d.id, "tracking": d.tracking, "type": d.type_code,
                       "status": d.status.value, **data})


def deposit(d: Dossier, now: datetime, actor: Actor) -> Change:
    """A new dossier (id not known yet; the caller fills it into the event)."""
    if d.status is not S.DEPOSITED:
        raise InvalidTransition("A new dossier starts as deposited.")
    return Change(d, [_event("dossier_deposited", d, now, actor, channel=d.channel,
                             declared=list(d.declared), missing=list(d.missing),
                             insured=d.insured_masked,
                             late=[x["code"] for x in d.deadlines if x.get("past")])])


def transition(d: Dossier, action: str, now: datetime, actor: Actor,
               missing: list[str] | None = None, reason: str | None = None,
               known_documents: set | None = None) -> Change:
    target = guard(d, action)
    extra: dict = {}
    changes: dict = {"status": target, "updated_at": now, STAMP[action]: now}
    if action == "incomplete":
        missing = [m for m in dict.fromkeys(missing or [])]
        if not missing:
            raise NotAllowed(f"Say which documents are missing from dossier {d.tracking}.",
                             tracking=d.tracking)
        unknown = [m for m in missing if known_documents is not None and m not in known_documents]
        if unknown:
            raise NotAllowed(f"Unknown document(s) {', '.join(unknown)} for this dossier type: "
                             f"use one of {', '.join(sorted(known_documents or ()))}.",
                             documents=unknown)
        changes["missing"] = tuple(missing)
        extra["missing"] = missing
    elif action == "reject":
        if not (reason or "").strip():
            raise NotAllowed(f"Give the reason dossier {d.tracking} is rejected: the visitor "
                             "reads it.", tracking=d.tracking)
        changes["reason"] = reason.strip()
        extra["reason"] = changes["reason"]
    elif action in ("review", "accept"):
        if action == "accept":
            changes["missing"] = ()
    after = replace(d, **changes)
    return Change(after, [_event(EVENT_OF[action], after, now, actor, previous=d.status.value,
                                 **extra)])
