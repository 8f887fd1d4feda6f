"""/api/v1 routes of the reports: the figures as JSON, CSV and XLSX, and today so far.

Query parameters (validated with pydantic, like every body here):
    from, to   branch days, YYYY-MM-DD, both included; at most three years apart
    grain      hour | day | week (hour: at most 31 days)
    branch     a branch code; defaults to the caller's branch
    lang       ar | fr | en: names and headers of the exports
A manager or an admin reads the reports of their own branch only.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Literal

from flask import Response, current_app, jsonify, request, stream_with_context
from pydantic import Field, ValidationError, field_validator

from .. import reports
from ..db import repo
from ..reports import export
from ..reports.facts import ticket_list
from . import bp
from ..engine.messages import N_, register
from .errors import ApiError, describe_validation

register({
    "invalid_query": N_("The request is not valid: %(text)s. Parameters: %(parameters)s"),
    "unknown_branch": N_("There is no branch with the code '%(branch)s': check the code, or "
                         "leave 'branch' out for your own branch."),
    "other_branch_reports": N_("You may read the reports of your own branch only; "
                               "'%(branch)s' is another branch. Ask that branch's manager."),
})
from . import responses as R
from .registry import Media, route
from .schemas import Lang, Strict

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PARAMS = ("?from=YYYY-MM-DD&to=YYYY-MM-DD&grain=hour|day|week&branch=<code>&lang=ar|fr|en")


def _day(field: str):
    def check(cls, v: str) -> date:
        if not isinstance(v, str) or not _DATE.match(v):
            raise ValueError(f"use a date like 2026-11-23 (YYYY-MM-DD), not {v!r}")
        try:
            return date.fromisoformat(v)
        except ValueError:
            raise ValueError(f"{v} is not a date of the calendar") from None
    return field_validator(field, mode="before")(check)


class ReportQuery(Strict):
    from_: date = Field(alias="from", description="first branch day, YYYY-MM-DD")
    to: date = Field(description="last branch day, YYYY-MM-DD (included)")
    grain: Literal["hour", "day", "week"] = "day"
    branch: str | None = Field(None, min_length=1, max_length=40)
    lang: Lang | None = None

    _from_date = _day("from_")
    _to_date = _day("to")


class TodayQuery(Strict):
    branch: str | None = Field(None, min_length=1, max_length=40)
    lang: Lang | None = None


def _tabour():
    return current_app.extensions["tabour"]


def _now():
    return _tabour().auth.clock()  # the app's clock (tests move it by hand)


def _query(model):
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        text, problems = describe_validation(exc)
        text = text.replace("from_", "from").replace("Value error, ", "")
        for p in problems:
            p["field"] = p["field"].replace("from_", "from")
            p["problem"] = p["problem"].replace("Value error, ", "")
        raise ApiError(400, "invalid_query", text=text, parameters=_PARAMS,
                       problems=problems) from None


def _branch_id(principal, code: str | None) -> int:
    """The branch asked for: the caller's own (a supervisor: one of its scope), or refused."""
    if code is None:
        return _tabour().auth.own_branch(principal)
    with _tabour().db.read() as conn:
        branch = repo.branch_by_code(conn, code)
    if branch is None:
        raise ApiError(400, "unknown_branch", branch=code)
    _tabour().auth.require_branch(principal, branch, "other_branch_reports")
    return branch.id


def _report(principal) -> tuple[dict, ReportQuery, int]:
    q = _query(ReportQuery)
    branch_id = _branch_id(principal, q.branch)
    rep = reports.report(_tabour().db, branch_id, q.from_, q.to, q.grain, _now())
    return rep, q, branch_id


def _lang(q) -> str:
    from flask_babel import get_locale
    return q.lang or str(get_locale() or "fr")


def _filename(rep: dict, kind: str, ext: str) -> str:
    return f"tabour-{rep['branch']['code']}-{rep['from']}-{rep['to']}-{kind}.{ext}"


@route(bp, "/reports", "GET", "A report: figures per period, service, counter, agent, "
       "outcome, channel and priority, and the charts' data " + _PARAMS, "reports:read",
       responses={200: "The report", 400: "A bad range, grain, date or branch code"},
       tag="reports", out=R.ReportOut, query=ReportQuery)
def get_report(p, _b):
    rep, _q, _bid = _report(p)
    return jsonify(rep)


@route(bp, "/reports/today", "GET", "Today so far for a branch (what the live dashboard "
       "shows) ?branch=<code>", "reports:read", responses={200: "Today's figures"},
       tag="reports", out=R.TodayOut, query=TodayQuery)
def get_today(p, _b):
    q = _query(TodayQuery)
    branch_id = _branch_id(p, q.branch)
    with _tabour().db.read() as conn:
        return jsonify(reports.today(conn, branch_id, _now()))


@route(bp, "/reports/figures.csv", "GET", "The report's figures as one CSV (a row per "
       "table row; the column 'table' says which) " + _PARAMS, "reports:read",
       responses={200: "text/csv"}, tag="reports", out={200: Media("text/csv")},
       query=ReportQuery)
def figures_csv(p, _b):
    rep, q, _bid = _report(p)
    body = export.figures_csv(rep, _lang(q))
    return Response(body, mimetype="text/csv", headers=_attachment(_filename(rep, "figures", "csv")))


@route(bp, "/reports/tickets.csv", "GET", "The tickets of the range, one row each (no "
       "personal data) " + _PARAMS, "reports:read", responses={200: "text/csv"},
       tag="reports", out={200: Media("text/csv")}, query=ReportQuery)
def tickets_csv(p, _b):
    q = _query(ReportQuery)
    branch_id = _branch_id(p, q.branch)
    reports.check_range(q.from_, q.to, q.grain)
    rows = _tickets(branch_id, q.from_.isoformat(), q.to.isoformat())
    name = f"tabour-{q.from_}-{q.to}-tickets.csv"
    return Response(stream_with_context(export.tickets_csv(rows)), mimetype="text/csv",
                    headers=_attachment(name))


@route(bp, "/reports/report.xlsx", "GET", "The report as an XLSX workbook, a sheet per "
       "table (the ticket list too, up to 31 days) " + _PARAMS, "reports:read",
       responses={200: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
       tag="reports", out={200: Media(XLSX, {"type": "string", "format": "binary"})},
       query=ReportQuery)
def report_xlsx(p, _b):
    from ..reports import labels
    rep, q, branch_id = _report(p)
    tickets = _tickets(branch_id, rep["from"], rep["to"]) \
        if rep["days"] <= reports.EXACT_DAYS else None
    notes = labels.notes(rep["percentiles"], reports.EXACT_DAYS, tickets_sheet=tickets is not None)
    body = export.xlsx(rep, _lang(q), labels.label_function(), tickets, notes)
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument."
                                    "spreadsheetml.sheet",
                    headers=_attachment(_filename(rep, "report", "xlsx")))


def _tickets(branch_id: int, f: str, t: str):
    db = _tabour().db
    now = _now()
    with db.read() as conn:
        ctx = reports.context(conn, branch_id, now)
    return ticket_list(db, ctx.branch, ctx.services, ctx.counters, f, t, now)


def _attachment(name: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store"}

