"""Exports of a report: CSV (the figures; the ticket list) and an XLSX workbook.

The figures are the report's own numbers (the JSON), written as they are: a CSV
or a workbook never recomputes anything, so they agree with the page and the API.

Personal data: a ticket carries no identity of a visitor (its code is a daily
number). The ticket list leaves out the agent's free-text note (it may name
people) and usernames; it keeps the counter number and the display name the
agent's session carried, which the manager already sees in the agent table, so
a complaint about a ticket can be followed up. Dossier figures are counts by
type and status: no insured or national number appears in any export.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Callable, Iterable

from .build import BREAKDOWNS, COLUMNS
from .facts import YIELD_EVERY, pause

TICKET_COLUMNS = ("day", "code", "service", "final_service", "priority", "channel",
                  "language", "status", "outcome", "issued_at", "first_called_at",
                  "started_at", "finished_at", "wait_s", "service_s", "counter", "agent",
                  "transfer_count", "recall_count", "printed_wait_minutes",
                  "printed_people_ahead", "printed_error_s")
DATETIME_COLUMNS = {"issued_at", "first_called_at", "started_at", "finished_at"}
RATE_COLUMNS = {"no_show_rate", "cancellation_rate", "service_level", "share"}
MINUTE_SUFFIX = "_min"
DOSSIER_COLUMNS = ("deposited", "incomplete")

Label = Callable[[str], str]


def _name(names: dict, lang: str) -> str:
    return names.get(lang) or names.get("fr") or names.get("en") or next(iter(names.values()), "")


def figure_columns() -> list[str]:
    seen: list[str] = []
    for cols in COLUMNS.values():
        for c in cols:
            if c not in seen:
                seen.append(c)
    for extra in ("transfers", "calls") + DOSSIER_COLUMNS:
        if extra not in seen:
            seen.append(extra)
    return seen


def figure_rows(rep: dict, lang: str) -> Iterable[dict]:
    """Every figure of a report as flat rows: table, period, key, label, then the metrics."""
    yield {"table": "totals", "period": "", "key": "", "label": "", **rep["totals"]}
    for p in rep["periods"]:
        yield {"table": "periods", "period": p["period"], "key": "", "label": "", **p["all"]}
    for p in rep["periods"]:
        for prefix, fig in p["services"].items():
            yield {"table": "period_services", "period": p["period"], "key": prefix,
                   "label": _service_name(rep, prefix, lang), **fig}
    for dim in BREAKDOWNS:
        for row in rep["breakdowns"][dim]:
            yield {"table": dim, "period": "", "key": row["key"],
                   "label": _name(row.get("label") or {}, lang),
                   **{c: row.get(c) for c in COLUMNS[dim]}}
    for t in rep["dossiers"]["by_type"]:
        yield {"table": "dossier_type", "period": "", "key": t["type"], "label": t["type"],
               "deposited": t["deposited"], "incomplete": t["incomplete"]}


def _service_name(rep: dict, prefix: str, lang: str) -> str:
    sv = next((x for x in rep["services"] if x["prefix"] == prefix), None)
    return _name(sv["names"], lang) if sv else prefix


def _csv_value(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return int(v)
    return v


def figures_csv(rep: dict, lang: str) -> str:
    """One CSV, one header: a row per figure row of the report (``table`` says which)."""
    buf = io.StringIO()
    cols = ["table", "period", "key", "label"] + figure_columns()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(cols)
    for row in figure_rows(rep, lang):
        w.writerow([_csv_value(row.get(c)) for c in cols])
    return "\ufeff" + buf.getvalue()  # a BOM: spreadsheet programs then read UTF-8 (Arabic)


def tickets_csv(rows: Iterable[dict]) -> Iterable[str]:
    """The ticket list, streamed (a year is hundreds of thousands of rows)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(TICKET_COLUMNS)
    yield "\ufeff" + buf.getvalue()
    for i, row in enumerate(rows):
        if i % YIELD_EVERY == 0:
            pause()
        buf.seek(0)
        buf.truncate()
        w.writerow([_csv_ticket(row.get(c)) for c in TICKET_COLUMNS])
        yield buf.getvalue()


def _csv_ticket(v):
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.isoformat(timespec="seconds")
    return v


# --- XLSX ----------------------------------------------------------------------------

def xlsx(rep: dict, lang: str, label: Label, tickets: Iterable[dict] | None,
         notes: list[str]) -> bytes:
    """A workbook: a sheet per table, typed cells (numbers as numbers, days as dates,
    times as local date-times, rates as percentages). Written in openpyxl's write-only
    mode: rows stream out, so a month of tickets costs seconds, not minutes."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    rtl = lang == "ar"
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")

    def sheet(title: str, widths: list[int], freeze: str | None = "B2"):
        ws = wb.create_sheet(title[:31])
        ws.sheet_view.rightToLeft = rtl
        if freeze:
            ws.freeze_panes = freeze
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = w
        return ws

    def header(ws, texts: list[str]):
        cells = []
        for text in texts:
            c = WriteOnlyCell(ws, value=text)
            c.font, c.alignment = bold, wrap
            cells.append(c)
        ws.append(cells)

    def row(ws, codes: list[str], values: list):
        cells = []
        for code, v in zip(codes, values):
            c = WriteOnlyCell(ws, value=v)
            fmt = _format(code, v)
            if fmt:
                c.number_format = fmt
            cells.append(c)
        ws.append(cells)

    # summary
    branch = rep["branch"]
    codes = list(COLUMNS["periods"]) + ["transfers", "calls"]
    ws = sheet(label("sheet_summary"), [24] * len(codes), freeze=None)
    for k, v in ((label("branch"), _name(branch["names"], lang)),
                 (label("branch_code"), branch["code"]),
                 (label("timezone"), branch["timezone"]),
                 (label("from"), date.fromisoformat(rep["from"])),
                 (label("to"), date.fromisoformat(rep["to"])),
                 (label("grain"), label("grain_" + rep["grain"])),
                 (label("percentiles"), label(rep["percentiles"])),
                 (label("complete"), label("yes") if rep["complete"] else label("no")),
                 (label("generated_at"), rep["generated_at"])):
        row(ws, ["name", "day"], [k, v])
    ws.append([])
    header(ws, [label(c) for c in codes])
    row(ws, codes, [rep["totals"].get(c) for c in codes])

    # periods
    codes = ["period"] + list(COLUMNS["periods"])
    ws = sheet(label("sheet_periods"), [17] + [13] * (len(codes) - 1))
    header(ws, [label(c) for c in codes])
    for p in rep["periods"]:
        row(ws, codes, [_period(p["period"])] + [p["all"].get(c) for c in codes[1:]])

    codes = ["period", "service"] + list(COLUMNS["period_services"])
    ws = sheet(label("sheet_period_services"), [17, 10] + [13] * (len(codes) - 2), "C2")
    header(ws, [label(c) for c in codes])
    for p in rep["periods"]:
        for prefix, fig in p["services"].items():
            row(ws, codes, [_period(p["period"]), prefix] + [fig.get(c) for c in codes[2:]])

    for dim in BREAKDOWNS:
        codes = ["key", "label"] + list(COLUMNS[dim])
        ws = sheet(label("sheet_" + dim), [12, 26] + [13] * len(COLUMNS[dim]), "C2")
        header(ws, [label("key_" + dim), label("name")] + [label(c) for c in COLUMNS[dim]])
        for r in rep["breakdowns"][dim]:
            name = _name(r.get("label") or {}, lang)
            if dim in ("outcome", "channel", "priority"):
                name = label(f"{dim}_{r['key']}")
            row(ws, codes, [_key(r["key"]), name] + [r.get(c) for c in COLUMNS[dim]])

    ws = sheet(label("sheet_dossiers"), [24, 14, 14])
    header(ws, [label(c) for c in ("type", "deposited", "incomplete")])
    for t in rep["dossiers"]["by_type"]:
        ws.append([t["type"], t["deposited"], t["incomplete"]])
    ws.append([])
    header(ws, [label("status"), label("count")])
    for st, n in rep["dossiers"]["by_status"].items():
        ws.append([st, n])

    if tickets is not None:
        codes = list(TICKET_COLUMNS)
        ws = sheet(label("sheet_tickets"), [11, 9] + [12] * (len(codes) - 2), "C2")
        header(ws, [label(c) for c in codes])
        for i, t in enumerate(tickets):
            if i % YIELD_EVERY == 0:
                pause()
            row(ws, codes, [_ticket_cell(c, t.get(c)) for c in codes])

    ws = sheet(label("sheet_notes"), [140], freeze=None)
    for line in notes:
        ws.append([line])

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _format(code: str, v) -> str | None:
    if v is None:
        return None
    if code in RATE_COLUMNS:
        return "0.0%"
    if code == "target_min":
        return "0"
    if code.endswith(MINUTE_SUFFIX):
        return "0.0"
    if isinstance(v, datetime):
        return "yyyy-mm-dd hh:mm:ss" if code in DATETIME_COLUMNS else "yyyy-mm-dd hh:mm"
    if isinstance(v, date):
        return "yyyy-mm-dd"
    return None


def _key(k: str):
    return int(k) if isinstance(k, str) and k.isdigit() else k


def _period(p: str):
    if "T" in p:
        return datetime.fromisoformat(p)
    return date.fromisoformat(p)


def _ticket_cell(code: str, v):
    if code == "day" and isinstance(v, str):
        return date.fromisoformat(v)
    if isinstance(v, datetime):
        return v.replace(tzinfo=None)  # local time of the branch (Excel has no zones)
    return v
