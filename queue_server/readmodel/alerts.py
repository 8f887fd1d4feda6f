"""The branch's alert list, kept in its projection and moved by alert events.

Alerts are facts of the branch (``alert_raised``, ``alert_cleared``,
``alert_acknowledged``: commands/alerts.py writes them with the ``alerts`` rows), so
every server process's projection holds the same list, and a dashboard's snapshot
reads it from memory. The book keeps every open alert and the ``KEPT`` most recent
closed ones; older ones stay in the table (GET /api/v1/dashboard/alerts?before=...).

Each alert's text comes from the message catalog, code ``alert_<kind>`` with the
alert's data as parameters, in the three languages at once (a dashboards room mixes
languages); a kind without a template shows its kind.
"""
from __future__ import annotations

import collections
import functools
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from ..db import schema as s
from ..engine.messages import N_, register, render
from ..engine.model import Event

ALERT_EVENTS = ("alert_raised", "alert_cleared", "alert_acknowledged")
KEPT = 100
LANGUAGES = ("ar", "fr", "en")
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"  # as i18n.py's

register({
    "alert_wait_target": N_("%(service_name)s (%(service)s): the wait has reached the target "
                            "of %(target_min)s min (longest wait %(longest_wait_min)s min, "
                            "estimate for a new ticket %(estimate_min)s min)."),
    "alert_counter_paused": N_("Counter %(counter)s has been on a break since %(since)s, "
                               "longer than %(limit_min)s min."),
    # for the printing side (issue 15): commands.raise_alert(b, "printer", name, {...})
    "alert_printer": N_("Printer %(printer)s needs attention: %(detail)s"),
    "alert_print_job": N_("Ticket %(ticket)s was not printed by %(printer)s after "
                          "%(minutes)s min: hand the visitor a ticket at reception."),
})


def row_dict(r) -> dict:
    return {"id": r.id, "kind": r.kind, "key": r.key, "data": dict(r.data or {}),
            "raised_at": r.raised_at, "cleared_at": r.cleared_at,
            "cleared_data": dict(r.cleared_data) if r.cleared_data else None,
            "acknowledged_at": r.acknowledged_at, "acknowledged_by": r.acknowledged_by}


def load(conn, branch_id: int) -> list[dict]:
    """The open alerts and the most recent closed ones, newest first."""
    A = s.alerts.c
    recent = select(A.id).where(A.branch_id == branch_id).order_by(A.id.desc()).limit(KEPT)
    rows = conn.execute(select(s.alerts).where(
        A.branch_id == branch_id, or_(A.cleared_at.is_(None), A.id.in_(recent)))
        .order_by(A.id.desc()))
    return [row_dict(r) for r in rows]


class AlertBook:
    def __init__(self, rows: list[dict] | None = None):
        self.by_id: collections.OrderedDict[int, dict] = collections.OrderedDict()
        for a in sorted(rows or (), key=lambda a: a["id"]):
            self.by_id[a["id"]] = a

    def open(self, kind: str, key: str) -> dict | None:
        for a in self.by_id.values():
            if a["kind"] == kind and a["key"] == key and a["cleared_at"] is None:
                return a
        return None

    def open_keys(self, kind: str) -> set[str]:
        return {a["key"] for a in self.by_id.values()
                if a["kind"] == kind and a["cleared_at"] is None}

    def newest_first(self) -> list[dict]:
        return list(reversed(self.by_id.values()))

    def apply(self, e: Event) -> None:
        d = e.data
        aid = d.get("alert_id")
        if e.type == "alert_raised":
            self.by_id[aid] = {"id": aid, "kind": d["kind"], "key": d["key"],
                               "data": dict(d.get("data") or {}), "raised_at": e.at,
                               "cleared_at": None, "cleared_data": None,
                               "acknowledged_at": None, "acknowledged_by": None}
            self._prune()
            return
        a = self.by_id.get(aid)
        if a is None:  # older than the book keeps
            return
        if e.type == "alert_cleared":
            a["cleared_at"], a["cleared_data"] = e.at, dict(d.get("data") or {})
        elif e.type == "alert_acknowledged":
            a["acknowledged_at"], a["acknowledged_by"] = e.at, d.get("by")
        self._prune()

    def _prune(self) -> None:
        closed = [i for i, a in self.by_id.items() if a["cleared_at"] is not None]
        for i in closed[:max(0, len(self.by_id) - KEPT)]:
            del self.by_id[i]


# --- words ---------------------------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def _translations(lang: str):
    from babel.support import Translations
    return Translations.load(str(TRANSLATIONS), [lang])


def gettext_for(lang: str):
    """A gettext of the compiled catalogs, usable outside any request (background tasks)."""
    return _translations(lang).gettext


def message(kind: str, data: dict, lang: str) -> str:
    code = f"alert_{kind}"
    return render(code, {**data, "message": data.get("message") or kind}, gettext_for(lang),
                  lang)


def _local(dt, tz: str) -> str | None:
    return dt.astimezone(ZoneInfo(tz)).isoformat(timespec="seconds") if dt else None


def alert_view(a: dict, tz: str) -> dict:
    """An alert as dashboards get it (staff only): its text in each language."""
    return {"id": a["id"], "kind": a["kind"], "key": a["key"], "data": a["data"],
            "open": a["cleared_at"] is None,
            "raised_at": _local(a["raised_at"], tz), "cleared_at": _local(a["cleared_at"], tz),
            "acknowledged_at": _local(a["acknowledged_at"], tz),
            "acknowledged_by": a["acknowledged_by"],
            "messages": {lang: message(a["kind"], a["data"], lang) for lang in LANGUAGES}}
