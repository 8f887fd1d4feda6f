"""Deadline rules: "within N days / N months of an event". Pure; dates passed in."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class DeadlineRule:
    code: str
    names: dict
    days: int | None = None
    months: int | None = None

    def due(self, event: date) -> date:
        """The last day the rule allows (inclusive)."""
        if self.days is not None:
            return date.fromordinal(event.toordinal() + self.days)
        return add_months(event, self.months or 0)


@dataclass(frozen=True)
class DeadlineCheck:
    rule: DeadlineRule
    due: date
    past: bool

    def view(self) -> dict:
        return {"code": self.rule.code, "names": self.rule.names,
                "due": self.due.isoformat(), "past": self.past}


def add_months(d: date, months: int) -> date:
    """Same day N months later; the 31st lands on the month's last day."""
    m = d.month - 1 + months
    year, month = d.year + m // 12, m % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def check(rules, event: date | None, today: date) -> list[DeadlineCheck]:
    """Each rule with its due date and whether ``today`` is past it. No event date: none."""
    if event is None:
        return []
    if event > today:
        from ..engine.errors import NotAllowed
        from . import messages  # noqa: F401
        raise NotAllowed("future_date", event_date=event.isoformat())
    return [DeadlineCheck(r, r.due(event), today > r.due(event)) for r in rules]
