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
from . import messages  # noqa: F401  (registers the dossier codes)
from .messages import DOSSIER_FIRST, REJECT_REASONS
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
    reason: str | None = None  # a REJECT_REASONS code (what the visitor reads)
    internal_note: str | None = None  # staff's own words: staff pages only, never public


@dataclass(frozen=True)
class Change:
    dossier: Dossier
    events: list = field(default_factory=list)


def guard(dossier: Dossier, action: str) -> S:
    if action not in TRANSITIONS:
        raise NotAllowed("unknown_dossier_action", action_name=action, choices=ACTIONS)
    allowed, target = TRANSITIONS[action]
    if dossier.status not in allowed:
        st = dossier.status.value
        if st in DOSSIER_FIRST:
            raise InvalidTransition("dossier_state_first", dossier_action=action,
                                    tracking=dossier.tracking, dossier_status=st,
                                    first=f"first_{st}")
        raise InvalidTransition("dossier_state", dossier_action=action,
                                tracking=dossier.tracking, dossier_status=st)
    return target


def _event(kind: str, d: Dossier, at: datetime, actor: Actor, **data) -> Event:
    # no full identity number in an event: events are exported and logged
    return Event(type=kind, at=at, actor=actor, ticket_id=d.ticket_id,
                 data={"dossier_id": d.id, "tracking": d.tracking, "type": d.type_code,
                       "status": d.status.value, **data})


def deposit(d: Dossier, now: datetime, actor: Actor) -> Change:
    """A new dossier (id not known yet; the caller fills it into the event)."""
    if d.status is not S.DEPOSITED:
        raise InvalidTransition("dossier_new_state")
    return Change(d, [_event("dossier_deposited", d, now, actor, channel=d.channel,
                             declared=list(d.declared), missing=list(d.missing),
                             insured=d.insured_masked,
                             late=[x["code"] for x in d.deadlines if x.get("past")])])


def transition(d: Dossier, action: str, now: datetime, actor: Actor,
               missing: list[str] | None = None, reason: str | None = None,
               known_documents: set | None = None, note: str | None = None) -> Change:
    """``reason``: a REJECT_REASONS code (rejecting); ``note``: staff's internal note
    (kept on the dossier for staff; events only say that one was written)."""
    target = guard(d, action)
    extra: dict = {}
    changes: dict = {"status": target, "updated_at": now, STAMP[action]: now}
    note = (note or "").strip() or None
    if note is not None:
        changes["internal_note"] = note
        extra["note"] = True
    if action == "incomplete":
        missing = [m for m in dict.fromkeys(missing or [])]
        if not missing:
            raise NotAllowed("missing_documents_needed", tracking=d.tracking)
        unknown = [m for m in missing if known_documents is not None and m not in known_documents]
        if unknown:
            raise NotAllowed("unknown_documents", documents=unknown,
                             choices=sorted(known_documents or ()))
        changes["missing"] = tuple(missing)
        extra["missing"] = missing
    elif action == "reject":
        reason = (reason or "").strip()
        if not reason:
            raise NotAllowed("reject_reason_needed", tracking=d.tracking)
        if reason not in REJECT_REASONS:
            raise NotAllowed("unknown_reject_reason", reason=reason[:40],
                             choices=list(REJECT_REASONS))
        changes["reason"] = reason
        extra["reason"] = reason
    elif action in ("review", "accept"):
        if action == "accept":
            changes["missing"] = ()
    after = replace(d, **changes)
    return Change(after, [_event(EVENT_OF[action], after, now, actor, previous=d.status.value,
                                 **extra)])
