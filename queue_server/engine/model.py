"""Value objects of the queue. Frozen dataclasses: transitions return new ones."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class TicketStatus(str, enum.Enum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    PARKED = "parked"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (TicketStatus.DONE, TicketStatus.NO_SHOW, TicketStatus.CANCELLED)


class CounterState(str, enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    SERVING = "serving"
    PAUSED = "paused"


class PriorityClass(str, enum.Enum):
    NORMAL = "normal"
    ELDERLY = "elderly"
    DISABLED = "disabled"
    PREGNANT = "pregnant"

    @property
    def is_priority(self) -> bool:
        return self is not PriorityClass.NORMAL


# the languages a branch may offer its visitors (zgh: Standard Moroccan Tamazight)
LANGUAGES = ("ar", "fr", "en", "zgh")
CHANNELS = ("kiosk", "counter", "api", "phone")


@dataclass(frozen=True)
class Actor:
    """Who did it: a staff user, a device, or the system."""

    kind: str  # "user" | "device" | "system"
    id: int | None = None
    name: str = ""

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name or self.id}"


SYSTEM = Actor("system", None, "system")


@dataclass(frozen=True)
class Service:
    id: int
    prefix: str
    names: dict  # {"ar": ..., "fr": ..., "en": ...}
    target_wait_minutes: int = 20
    icon: str = "ticket"
    active: bool = True
    # what a visit usually takes before the day has taught it (the branch file)
    prior_minutes: float | None = None
    prior_sd_minutes: float | None = None
    closed_day: str | None = None  # closed for this branch day only (reopens the next)
    cutoff: str | None = None  # "HH:MM": visitors' tickets end for the day (schedule.py)

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names.get("fr") or self.prefix

    def open_on(self, day: str) -> bool:
        """Active, and not closed for this branch day."""
        return self.active and self.closed_day != day


@dataclass(frozen=True)
class Counter:
    id: int
    number: int
    name: str
    # service id -> rank (lower is served first by this counter)
    services: dict = field(default_factory=dict)
    state: CounterState = CounterState.CLOSED
    current_ticket_id: int | None = None
    # consecutive priority calls made by this counter (anti-starvation rule)
    priority_streak: int = 0
    version: int = 0  # storage's optimistic-concurrency counter; the rules ignore it

    def serves(self, service_id: int) -> bool:
        return service_id in self.services


@dataclass(frozen=True)
class Ticket:
    id: int | None
    service_id: int
    number: int
    code: str
    day: str  # branch day, ISO date
    status: TicketStatus
    priority: PriorityClass
    channel: str
    language: str
    issued_at: datetime
    queued_at: datetime  # the arrival time the ordering uses (moved by transfer/recycle)
    front: bool = False  # placed at the head of its class (transfer/park return by policy)
    target_counter_id: int | None = None  # only this counter may call it
    counter_id: int | None = None  # counter holding it (called/serving/parked) or that last held it
    called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    recall_count: int = 0
    recycled: bool = False
    transfer_count: int = 0
    outcome: str | None = None
    note: str | None = None
    version: int = 0  # storage's optimistic-concurrency counter; the rules ignore it


@dataclass(frozen=True)
class Policy:
    """Branch rules. Defaults are what a typical agency uses."""

    # anti-starvation: "wait_bound" (a normal ticket waiting past the bound counts as
    # priority), "interleave" (one normal call after every N priority calls), or both.
    starvation_rule: str = "both"
    starvation_wait_minutes: int = 30
    priority_burst: int = 3
    recalls_before_recycle: int = 2
    recycle_no_show: bool = True
    # where a transferred ticket lands in its new queue: "front", "keep" (original
    # arrival time) or "end"
    transfer_position: str = "front"
    default_service_minutes: float = 6.0
    service_time_window: int = 20  # finished tickets used for the mean
    rollover_hour: int = 4  # branch day starts at this local hour
    keep_overnight: bool = False  # keep waiting tickets across the rollover
    pause_alert_minutes: int = 20  # a counter on a break longer than this raises an alert


@dataclass(frozen=True)
class Event:
    """A fact the engine records. Persisted append-only; fanned out after commit."""

    type: str
    at: datetime
    actor: Actor
    ticket_id: int | None = None
    counter_id: int | None = None
    service_id: int | None = None
    data: dict = field(default_factory=dict)
