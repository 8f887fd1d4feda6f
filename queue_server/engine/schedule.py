"""Opening hours, closed days, special hours and each service's daily cut-off.

A branch's schedule is data (``branches.schedule``, edited at /admin/):

    {"weekly": {"mon": [["08:30", "16:30"]], ..., "fri": [["08:30", "12:00"],
                                                          ["14:00", "16:30"]]},
     "special": [{"from": "2027-02-18", "to": "2027-03-19", "closed": false,
                  "hours": [["09:00", "15:00"]], "note": "Ramadan"},
                 {"from": "2026-12-25", "to": "2026-12-25", "closed": true,
                  "note": "holiday"}]}

- ``weekly`` None (or absent): no hours are set, the branch takes visitors at any
  time. A weekday left out (or with no interval) is a closed day: an antenna open on
  Monday and Thursday lists those two days only.
- ``special`` periods override the week for their days (inclusive): closed, or
  other hours (Ramadan). A later period in the list wins over an earlier one.
- A service's cut-off ("15:30", local time) ends its issuing for the branch day:
  after it, and after midnight until the rollover, a visitor's ticket is refused.

Visitors' channels (kiosk, phone) are refused outside the hours and after the
cut-off, with when to come back (``back_day``: today, tomorrow, a weekday within
the week, else the date; ``back_time``: the opening time). Staff may still issue
(a visitor already inside at closing time).

Pure: times are passed in, local to the branch (naive or aware, their wall clock
is used).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .errors import NotAllowed
from .messages import N_, register, words
from .model import Service

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEARCH_DAYS = 370  # how far ahead "when to come back" looks
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

register({
    "service_cut_off": N_("%(service_name)s takes no more tickets today (the last ticket is "
                          "issued before %(cutoff)s): come back %(back_day)s at %(back_time)s."),
    "service_cut_off_no_hours": N_("%(service_name)s takes no more tickets today (the last "
                                   "ticket is issued before %(cutoff)s): come back "
                                   "%(back_day)s."),
    "branch_closed_now": N_("The branch is closed now: it opens %(back_day)s at "
                            "%(back_time)s."),
    "branch_closed_today": N_("The branch is closed today: come back %(back_day)s."),
    "branch_closed_no_opening": N_("The branch is closed and no opening day is planned: ask "
                                   "the staff."),
    "bad_schedule": N_("The opening hours are not valid: %(problem)s"),
})
words("back_day", {
    "today": N_("today"), "tomorrow": N_("tomorrow"),
    "mon": N_("on Monday"), "tue": N_("on Tuesday"), "wed": N_("on Wednesday"),
    "thu": N_("on Thursday"), "fri": N_("on Friday"), "sat": N_("on Saturday"),
    "sun": N_("on Sunday"),
})

Interval = tuple[int, int]  # minutes since midnight, [open, close)


class ScheduleError(ValueError):
    """Schedule data that cannot be used (the API answers 400 with ``bad_schedule``)."""


def minutes_of(hhmm: str) -> int:
    m = _HHMM.match(hhmm or "") if isinstance(hhmm, str) else None
    if not m:
        raise ScheduleError(f"'{hhmm}' is not a time like 08:30 (HH:MM, 24 hours)")
    return int(m.group(1)) * 60 + int(m.group(2))


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _intervals(raw, where: str) -> tuple[Interval, ...]:
    out = []
    for pair in raw or ():
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ScheduleError(f"{where}: give each interval as [opens, closes]")
        a, b = minutes_of(pair[0]), minutes_of(pair[1])
        if b <= a:
            raise ScheduleError(f"{where}: {pair[0]}–{pair[1]} closes before it opens")
        out.append((a, b))
    out.sort()
    for (a1, b1), (a2, _b2) in zip(out, out[1:]):
        if a2 < b1:
            raise ScheduleError(f"{where}: {hhmm(a1)}–{hhmm(b1)} overlaps the next interval")
    return tuple(out)


@dataclass(frozen=True)
class Special:
    first: date
    last: date
    closed: bool
    hours: tuple[Interval, ...] = ()
    note: str = ""

    def covers(self, d: date) -> bool:
        return self.first <= d <= self.last


@dataclass(frozen=True)
class Schedule:
    weekly: tuple[tuple[Interval, ...], ...] | None = None  # 7 entries, Monday first
    special: tuple[Special, ...] = ()

    @classmethod
    def from_data(cls, data) -> "Schedule":
        """Parse stored or submitted data; ``ScheduleError`` names what is wrong."""
        data = data or {}
        if not isinstance(data, dict):
            raise ScheduleError("the schedule is an object with 'weekly' and 'special'")
        weekly = data.get("weekly")
        week = None
        if weekly is not None:
            if not isinstance(weekly, dict):
                raise ScheduleError("'weekly' maps mon..sun to lists of [opens, closes]")
            unknown = set(weekly) - set(WEEKDAYS)
            if unknown:
                raise ScheduleError(f"unknown weekday {sorted(unknown)[0]!r}: use "
                                    f"{', '.join(WEEKDAYS)}")
            week = tuple(_intervals(weekly.get(d), d) for d in WEEKDAYS)
        special = []
        for i, sp in enumerate(data.get("special") or ()):
            where = f"special period {i + 1}"
            if not isinstance(sp, dict):
                raise ScheduleError(f"{where}: an object with from, to, closed, hours")
            try:
                first = date.fromisoformat(str(sp.get("from")))
                last = date.fromisoformat(str(sp.get("to") or sp.get("from")))
            except ValueError:
                raise ScheduleError(f"{where}: dates are YYYY-MM-DD") from None
            if last < first:
                raise ScheduleError(f"{where}: it ends ({last}) before it starts ({first})")
            if (last - first).days > 366:
                raise ScheduleError(f"{where}: a special period lasts at most a year")
            closed = bool(sp.get("closed"))
            hours = () if closed else _intervals(sp.get("hours"), where)
            if not closed and not hours:
                raise ScheduleError(f"{where}: give its hours, or mark it closed")
            special.append(Special(first, last, closed, hours, str(sp.get("note") or "")[:80]))
        return cls(week, tuple(special))

    def to_data(self) -> dict:
        return {
            "weekly": None if self.weekly is None else {
                d: [[hhmm(a), hhmm(b)] for a, b in iv] for d, iv in zip(WEEKDAYS, self.weekly)},
            "special": [{"from": sp.first.isoformat(), "to": sp.last.isoformat(),
                         "closed": sp.closed, "hours": [[hhmm(a), hhmm(b)] for a, b in sp.hours],
                         "note": sp.note} for sp in self.special],
        }

    @property
    def set(self) -> bool:
        """Whether any hours constrain the branch (else it is open at any time)."""
        return self.weekly is not None or bool(self.special)

    def hours_on(self, d: date) -> tuple[Interval, ...] | None:
        """The day's opening intervals; () when closed; None when no hours are set."""
        for sp in reversed(self.special):
            if sp.covers(d):
                return () if sp.closed else sp.hours
        if self.weekly is None:
            return None
        return self.weekly[d.weekday()]

    def is_open(self, local: datetime) -> bool:
        hours = self.hours_on(local.date())
        if hours is None:
            return True
        m = local.hour * 60 + local.minute
        return any(a <= m < b for a, b in hours)

    def next_opening(self, local: datetime,
                     from_day: date | None = None) -> tuple[date, int | None] | None:
        """The first opening at or after ``local`` (on ``from_day`` or later when given):
        (its day, its time in minutes, or None on a day without set hours, open all
        day); None when no day within a year opens."""
        start = max(local.date(), from_day) if from_day else local.date()
        m_now = local.hour * 60 + local.minute
        for i in range(SEARCH_DAYS):
            d = start + timedelta(days=i)
            hours = self.hours_on(d)
            if hours is None:
                return d, None
            for a, _b in hours:
                if d > local.date() or a >= m_now:
                    return d, a
        return None


NO_SCHEDULE = Schedule()


def back_day(d: date, today: date) -> str:
    """How a refusal names the day to come back: a word, or the date."""
    delta = (d - today).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    if 1 < delta < 7:
        return WEEKDAYS[d.weekday()]
    return d.isoformat()


def check_issue(schedule: Schedule | None, service: Service, local: datetime,
                branch_day: str) -> None:
    """May a visitor take a ticket for ``service`` now? Raises ``NotAllowed`` with when
    to come back. ``local``: the branch's wall clock; ``branch_day``: the branch day
    it belongs to (before the rollover hour, still the day before)."""
    schedule = schedule or NO_SCHEDULE
    today = local.date()
    if service.cutoff:
        day = date.fromisoformat(branch_day)
        if today > day or local.hour * 60 + local.minute >= minutes_of(service.cutoff):
            nxt = schedule.next_opening(local, from_day=day + timedelta(days=1))
            if nxt is None:
                raise NotAllowed("branch_closed_no_opening")
            said = {"service": service.prefix, "service_name": service.names,
                    "cutoff": service.cutoff, "back_day": back_day(nxt[0], today)}
            if nxt[1] is None:
                raise NotAllowed("service_cut_off_no_hours", **said)
            raise NotAllowed("service_cut_off", **said, back_time=hhmm(nxt[1]))
    if schedule.set and not schedule.is_open(local):
        nxt = schedule.next_opening(local)
        if nxt is None:
            raise NotAllowed("branch_closed_no_opening")
        if nxt[1] is None:
            raise NotAllowed("branch_closed_today", back_day=back_day(nxt[0], today))
        raise NotAllowed("branch_closed_now", back_day=back_day(nxt[0], today),
                         back_time=hhmm(nxt[1]))
