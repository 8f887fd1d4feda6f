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
    for row in rows:
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
    times as local date-times, rates as percentages)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    rtl = lang == "ar"
    bold = Font(bold=True)

    def sheet(title: str, first: bool = False):
        ws = wb.active if first else wb.create_sheet()
        ws.title = title[:31]
        ws.sheet_view.rightToLeft = rtl
        return ws

    def header(ws, codes: list[str], texts: list[str] | None = None, freeze: bool = True):
        ws.append(texts or [label(c) for c in codes])
        for cell in ws[ws.max_row]:
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        if freeze:  # (a coordinate: asking for the cell would create an empty row)
            ws.freeze_panes = f"B{ws.max_row + 1}"

    def typed(ws, codes: list[str]):
        """Number formats of the last row, by column code."""
        for cell, code in zip(ws[ws.max_row], codes):
            if code in RATE_COLUMNS:
                cell.number_format = "0.0%"
            elif code.endswith(MINUTE_SUFFIX):
                cell.number_format = "0.0"
            elif code in ("day", "period") and isinstance(cell.value, (date, datetime)):
                cell.number_format = "yyyy-mm-dd hh:mm" if isinstance(cell.value, datetime) \
                    else "yyyy-mm-dd"
            elif code in DATETIME_COLUMNS and cell.value is not None:
                cell.number_format = "yyyy-mm-dd hh:mm:ss"

    def widths(ws, n: int, first: int = 14):
        for i in range(1, n + 1):
            ws.column_dimensions[get_column_letter(i)].width = first if i == 1 else 13

    # summary
    ws = sheet(label("sheet_summary"), first=True)
    branch = rep["branch"]
    for k, v in ((label("branch"), _name(branch["names"], lang)),
                 (label("branch_code"), branch["code"]),
                 (label("timezone"), branch["timezone"]),
                 (label("from"), date.fromisoformat(rep["from"])),
                 (label("to"), date.fromisoformat(rep["to"])),
                 (label("grain"), label("grain_" + rep["grain"])),
                 (label("percentiles"), label(rep["percentiles"])),
                 (label("complete"), label("yes") if rep["complete"] else label("no")),
                 (label("generated_at"), rep["generated_at"])):
        ws.append([k, v])
        if isinstance(v, date):
            ws.cell(row=ws.max_row, column=2).number_format = "yyyy-mm-dd"
    ws.append([])
    codes = list(COLUMNS["periods"]) + ["transfers", "calls"]
    header(ws, codes, freeze=False)
    ws.append([_cell(rep["totals"].get(c)) for c in codes])
    typed(ws, codes)
    widths(ws, len(codes), 24)

    # periods
    ws = sheet(label("sheet_periods"))
    codes = ["period"] + list(COLUMNS["periods"])
    header(ws, codes)
    for p in rep["periods"]:
        ws.append([_period(p["period"])] + [_cell(p["all"].get(c)) for c in codes[1:]])
        typed(ws, codes)
    widths(ws, len(codes), 17)

    ws = sheet(label("sheet_period_services"))
    codes = ["period", "service"] + list(COLUMNS["period_services"])
    header(ws, codes)
    for p in rep["periods"]:
        for prefix, fig in p["services"].items():
            ws.append([_period(p["period"]), prefix] + [_cell(fig.get(c)) for c in codes[2:]])
            typed(ws, codes)
    widths(ws, len(codes), 17)

    for dim in BREAKDOWNS:
        ws = sheet(label("sheet_" + dim))
        codes = ["key", "label"] + list(COLUMNS[dim])
        header(ws, codes, [label("key_" + dim), label("name")] + [label(c) for c in COLUMNS[dim]])
        for row in rep["breakdowns"][dim]:
            name = _name(row.get("label") or {}, lang)
            if dim in ("outcome", "channel", "priority"):
                name = label(f"{dim}_{row['key']}")
            ws.append([_key(row["key"]), name] + [_cell(row.get(c)) for c in COLUMNS[dim]])
            typed(ws, codes)
        widths(ws, len(codes))

    ws = sheet(label("sheet_dossiers"))
    header(ws, ["type", "deposited", "incomplete"])
    for t in rep["dossiers"]["by_type"]:
        ws.append([t["type"], t["deposited"], t["incomplete"]])
    ws.append([])
    header(ws, ["status", "count"], freeze=False)
    for st, n in rep["dossiers"]["by_status"].items():
        ws.append([st, n])
    widths(ws, 3, 24)

    if tickets is not None:
        ws = sheet(label("sheet_tickets"))
        codes = list(TICKET_COLUMNS)
        header(ws, codes)
        for row in tickets:
            ws.append([_ticket_cell(c, row.get(c)) for c in codes])
            typed(ws, codes)
        widths(ws, len(codes), 12)

    ws = sheet(label("sheet_notes"))
    for line in notes:
        ws.append([line])
    ws.column_dimensions["A"].width = 140

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _cell(v):
    return v


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
