"""Report routes: exports read back (CSV parsed, XLSX opened with openpyxl) give the JSON's
numbers; bad input is a 400 that changes nothing; who may read which branch's reports."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, insert, select

from queue_server import housekeeping
from queue_server.db import schema
from support.api import Api
from support.app import ADMIN_PASSWORD

from . import scenario as S

Q = "from=2026-11-23&to=2026-11-23&grain=day"


@pytest.fixture
def played(api, clock):
    """The scenario day, closed by the rollover; a fresh admin session."""
    S.play(api, clock)
    clock.now = S.ROLLOVER
    housekeeping.run_once(api.tabour)  # closes the day and summarises it...
    with api.tabour.db.write() as conn:  # ... forgotten here: the lazy backfill's case
        conn.execute(delete(schema.report_days))
    return Api(api.app).login("admin", ADMIN_PASSWORD)


def _csv(r) -> list[dict]:
    assert r.status_code == 200, r.get_json()
    assert r.mimetype == "text/csv"
    text = r.get_data(as_text=True)
    assert text.startswith("\ufeff")  # spreadsheet programs then read UTF-8 (Arabic)
    return list(csv.DictReader(io.StringIO(text[1:])))


def _num(s: str):
    if s == "":
        return None
    f = float(s)
    return int(f) if f.is_integer() and "." not in s else f


def test_csv_and_xlsx_give_the_json_numbers(played):
    api = played
    rep = api.get("/reports?" + Q).get_json()

    rows = _csv(api.get("/reports/figures.csv?" + Q + "&lang=fr"))
    by = {(r["table"], r["period"], r["key"]): r for r in rows}
    totals = by[("totals", "", "")]
    for k, v in rep["totals"].items():
        assert _num(totals[k]) == v, k
    for dim, rows_ in rep["breakdowns"].items():
        for row in rows_:
            line = by[(dim, "", row["key"])]
            for col in rep["columns"][dim]:
                assert _num(line[col]) == row[col], (dim, row["key"], col)
    assert by[("service", "", "A")]["label"] == "Allocations familiales"
    assert by[("period_services", "2026-11-23", "B")]["wait_mean_min"] == "13.0"
    assert by[("dossier_type", "", "old_age_pension")]["incomplete"] == "1"

    r = api.get("/reports/report.xlsx?" + Q + "&lang=en")
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="tabour-casa-hay-hassani-2026-11-23-2026-11-23-report.xlsx"' in \
        r.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == ["Summary", "Periods", "Periods by service", "Services", "Counters",
                             "Agents", "Outcomes", "Channels", "Priorities", "Transfers",
                             "Dossiers", "Tickets", "Notes"]

    def table(name):
        ws = wb[name]
        values = list(ws.values)
        return values[0], values[1:]
    head, body = table("Services")
    assert head[:3] == ("Service", "Name", "Target wait (min)")
    a = body[0]
    assert a[0] == "A" and a[1] == "Family allowances"
    for col, value in zip(rep["columns"]["service"], a[2:]):
        assert value == rep["breakdowns"]["service"][0][col], col
        if value is not None:
            assert isinstance(value, (int, float))   # numbers, not text
    ws = wb["Services"]
    rate_col = 2 + rep["columns"]["service"].index("service_level") + 1
    assert ws.cell(row=2, column=rate_col).number_format == "0.0%"

    head, body = table("Counters")
    assert [row[0] for row in body] == [1, 3, 4, 5]       # counter numbers as numbers
    head, body = table("Periods")
    assert body[0][0] == datetime(2026, 11, 23)           # a date cell
    assert body[0][1] == 10
    head, body = table("Tickets")
    assert len(body) == 10
    tickets = {row[head.index("Ticket")]: dict(zip(head, row)) for row in body}
    assert tickets["A-001"]["Wait (s)"] == S.WAITS["A-001"] * 60
    assert tickets["A-003"]["Final service"] == "E" and tickets["A-003"]["Service"] == "A"
    assert tickets["A-002"]["Issued at"] == datetime(2026, 11, 23, 9, 32)   # local, typed
    assert tickets["A-002"]["Agent"] == "amina"
    assert tickets["A-002"]["Printed wait (min)"] == 5
    assert tickets["A-002"]["Actual minus printed wait (s)"] == 300
    assert wb["Summary"]["B4"].value == datetime(2026, 11, 23)


def test_the_ticket_list_carries_no_personal_data(played):
    api = played
    rows = _csv(api.get("/reports/tickets.csv?" + Q))
    assert len(rows) == 10 and "note" not in rows[0]
    waits = {r["code"]: _num(r["wait_s"]) for r in rows}
    assert waits == {**{c: w * 60 for c, w in S.WAITS.items()}, "A-004": None, "A-005": None}
    assert rows[0]["issued_at"].endswith("+01:00")        # local time, zone said
    everything = "".join([
        api.get("/reports/tickets.csv?" + Q).get_data(as_text=True),
        api.get("/reports/figures.csv?" + Q).get_data(as_text=True),
        api.get("/reports?" + Q).get_data(as_text=True),
    ])
    xlsx = load_workbook(io.BytesIO(api.get("/reports/report.xlsx?" + Q).data))
    cells = " ".join(str(c) for ws in xlsx for row in ws.values for c in row if c is not None)
    for text in (everything, cells):
        assert "0612345678" not in text and "Benali" not in text     # the agent's note
        assert S.INSURED_TAIL not in text                              # the insured number
        assert "salma" not in text                                     # usernames of staff
    assert "amina" in cells  # an agent's display name is there (the manager's own staff)


def test_a_long_range_workbook_points_to_the_tickets_csv(played):
    r = played.get("/reports/report.xlsx?from=2026-10-01&to=2026-11-23&lang=en")
    wb = load_workbook(io.BytesIO(r.data))
    assert "Tickets" not in wb.sheetnames
    notes = " ".join(row[0] for row in wb["Notes"].values)
    assert "download the tickets as CSV" in notes and "one-minute histograms" in notes
    assert wb["Summary"]["B7"].value == "from one-minute histograms (upper edge of the minute)"


def test_an_arabic_workbook_reads_right_to_left(played):
    wb = load_workbook(io.BytesIO(played.get("/reports/report.xlsx?" + Q + "&lang=ar").data))
    assert wb.sheetnames[0] == "الملخص"
    assert wb["الملخص"].sheet_view.rightToLeft is True


# --- bad input: 400, and nothing written -------------------------------------------------------

def _state(api):
    with api.tabour.db.read() as conn:
        return (conn.execute(select(func.count()).select_from(schema.report_days)).scalar(),
                conn.execute(select(func.count()).select_from(schema.events)).scalar(),
                conn.execute(select(func.count()).select_from(schema.tickets)).scalar())


@pytest.fixture
def yesterday(api, clock):
    """A closed day without its summary: any valid report would write one."""
    api.open(1)
    api.issue("A")
    api.call_next(1)
    clock.now = S.ROLLOVER
    housekeeping.run_once(api.tabour)  # closes the day and summarises it...
    with api.tabour.db.write() as conn:  # ... forgotten here: the lazy backfill's case
        conn.execute(delete(schema.report_days))
    return Api(api.app).login("admin", ADMIN_PASSWORD)


@pytest.mark.parametrize("query, code, says", [
    ("from=2026-11-24&to=2026-11-23", "empty_range", "before"),
    ("from=2016-11-23&to=2026-11-23", "range_too_long", "1096 days"),
    ("from=2026-10-01&to=2026-11-23&grain=hour", "hour_range_too_long", "31 days"),
    ("from=2026-11-01&to=2026-11-23&branch=atlantis", "unknown_branch", "atlantis"),
    ("from=23/11/2026&to=2026-11-23", "invalid_query", "YYYY-MM-DD"),
    ("from=2026-02-30&to=2026-11-23", "invalid_query", "not a date"),
    ("from=2026-11-01&to=2026-11-23&grain=month", "invalid_query", "grain"),
    ("to=2026-11-23", "invalid_query", "from: is required"),
    ("from=2026-11-01&to=2026-11-23&colour=red", "invalid_query", "colour"),
])
def test_bad_input_is_a_clear_400_that_changes_nothing(yesterday, query, code, says):
    before = _state(yesterday)
    for route in ("/reports", "/reports/figures.csv", "/reports/tickets.csv",
                  "/reports/report.xlsx"):
        r = yesterday.get(f"{route}?{query}")
        assert r.status_code == 400, (route, r.data[:300])
        err = r.get_json()["error"]
        assert err["code"] == code and says in err["message"], (route, err)
    assert _state(yesterday) == before
    # the same day asked properly: the lazy backfill writes its summary
    assert yesterday.get("/reports?" + Q).status_code == 200
    assert _state(yesterday)[0] > before[0]


# --- who may read ------------------------------------------------------------------------------

ROUTES = ["/reports?" + Q, "/reports/figures.csv?" + Q, "/reports/tickets.csv?" + Q,
          "/reports/report.xlsx?" + Q, "/reports/today"]


def _second_branch(api) -> Api:
    """Another branch in the same database, with its own manager."""
    with api.tabour.db.write() as conn:
        bid = conn.execute(insert(schema.branches).values(
            code="alger-centre", names={"fr": "Alger centre"}, timezone="Africa/Algiers",
            languages=["ar", "fr"], display_languages=["ar", "fr"], policy={},
            outcomes=["served"])).inserted_primary_key[0]
    api.tabour.auth.create_user(bid, "nadia", "password-123", "manager", "Nadia")
    return Api(api.app).login("nadia", "password-123")


@pytest.mark.parametrize("route", ROUTES)
def test_role_matrix(api, route):
    agent = api.user("amine", "agent")
    manager = api.user("meryem", "manager")
    other = _second_branch(api)
    sep = "&" if "?" in route else "?"
    assert api.as_token(None).get(route).status_code == 401
    assert api.as_token("not-a-token").get(route).status_code == 401
    r = agent.get(route)
    assert r.status_code == 403 and "reports:read" in r.get_json()["error"]["message"]
    kiosk = api.device("kiosk", "entrance")
    assert kiosk.get(route).status_code == 403
    assert manager.get(route).status_code == 200
    assert manager.get(route + sep + "branch=casa-hay-hassani").status_code == 200
    assert api.get(route).status_code == 200                      # an admin, own branch
    r = manager.get(route + sep + "branch=alger-centre")
    assert r.status_code == 403 and "own branch" in r.get_json()["error"]["message"]
    assert other.get(route + sep + "branch=casa-hay-hassani").status_code == 403
    assert api.get(route + sep + "branch=alger-centre").status_code == 403  # admins too
    assert other.get(route).status_code == 200                    # their own (empty) branch


def test_the_routes_are_in_the_openapi_document(api):
    doc = api.get("/openapi.json").get_json()
    for path in ("/api/v1/reports", "/api/v1/reports/today", "/api/v1/reports/figures.csv",
                 "/api/v1/reports/tickets.csv", "/api/v1/reports/report.xlsx"):
        op = doc["paths"][path]["get"]
        assert op["tags"] == ["reports"] and "reports:read" in op["description"]
        assert {"400", "401", "403"} <= set(op["responses"])


def test_an_empty_range_of_a_new_branch_has_no_figures_but_answers(api):
    r = api.get("/reports?from=2026-11-01&to=2026-11-07")
    assert r.status_code == 200
    rep = r.get_json()
    assert rep["totals"]["arrivals"] == 0 and rep["totals"]["wait_mean_min"] is None
    assert rep["printed"] == {"status": "missing", "n": 0}
    assert len(rep["periods"]) == 7 and rep["complete"] is True
    assert date.fromisoformat(rep["to"]) == date(2026, 11, 7)
