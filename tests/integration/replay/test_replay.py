"""run.py replay: a branch day's event log through the real commands, and the
numbers it writes are the ones the live API printed for the same tickets at the
same (injected) times. Bad input names the line and writes nothing; a real day
exported with run.py export-events replays to the same estimates."""
from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from queue_server.replay import ReplayError, export_day, read_events, replay

from support.api import Api
from support.app import ADMIN_PASSWORD, make_app
from support.clock import FakeClock

ROOT = Path(__file__).resolve().parents[3]
BRANCH = """
[[branch]]
code = "replay-branch"
timezone = "Africa/Algiers"
languages = ["ar", "fr", "en"]
display_languages = ["ar", "fr"]
outcomes = ["served"]
[branch.names]
ar = "وكالة"
fr = "Agence"
en = "Branch"
[branch.policy]
starvation_rule = "wait_bound"
starvation_wait_minutes = 100000
[[branch.service]]
prefix = "A"
names = { ar = "أ", fr = "A", en = "A" }
[[branch.service]]
prefix = "B"
names = { ar = "ب", fr = "B", en = "B" }
prior_service_minutes = 9
[[branch.counter]]
number = 1
services = ["A"]
[[branch.counter]]
number = 2
services = ["A", "B"]
[[branch.counter]]
number = 3
services = ["B"]
"""
T0 = datetime(2026, 1, 4, 7, 0, tzinfo=timezone.utc)  # 08:00 in Algiers


def fixture_day() -> list[dict]:
    """A small day: three counters open, a morning of tickets, calls in the order the
    branch calls them, a break, a no-show, a transfer."""
    rows, t = [], T0

    def at(minutes):
        return (T0 + timedelta(minutes=minutes)).astimezone(
            timezone(timedelta(hours=1))).isoformat(timespec="milliseconds")

    def add(m, kind, ticket="", service="", priority="", counter=""):
        rows.append({"at": at(m), "kind": kind, "ticket": ticket, "service": service,
                     "priority": priority, "counter": counter})
    for c in (1, 2, 3):
        add(0, "counter_opened", counter=c)
    add(1, "ticket_issued", "T1", "A", "none")
    add(1.5, "ticket_called", "T1", counter=1)
    add(1.5, "ticket_started", "T1", counter=1)
    add(2, "ticket_issued", "T2", "B", "none")
    add(2.2, "ticket_called", "T2", counter=3)
    add(2.2, "ticket_started", "T2", counter=3)
    add(3, "ticket_issued", "T3", "A", "none")
    add(3.1, "ticket_called", "T3", counter=2)
    add(3.1, "ticket_started", "T3", counter=2)
    add(4, "ticket_issued", "T4", "A", "elderly")
    add(5, "ticket_issued", "T5", "B", "none")
    add(6, "ticket_issued", "T6", "A", "none")
    add(7, "ticket_finished", "T1", counter=1)
    add(7.2, "ticket_called", "T4", counter=1)
    add(7.2, "ticket_started", "T4", counter=1)
    add(9, "ticket_finished", "T3", counter=2)
    add(9, "counter_paused", counter=2)
    add(10, "ticket_issued", "T7", "B", "none")
    add(12, "ticket_finished", "T2", counter=3)
    add(12.1, "ticket_called", "T5", counter=3)
    add(13, "ticket_recalled", "T5", counter=3)
    add(14, "ticket_no_show", "T5", counter=3)
    add(14.2, "ticket_called", "T7", counter=3)
    add(14.2, "ticket_started", "T7", counter=3)
    add(15, "ticket_finished", "T4", counter=1)
    add(15.1, "ticket_called", "T6", counter=1)
    add(15.5, "ticket_transferred", "T6", counter=2)
    add(16, "ticket_issued", "T8", "A", "none")
    add(20, "counter_resumed", counter=2)
    add(20.1, "ticket_called", "T6", counter=2)
    add(20.1, "ticket_started", "T6", counter=2)
    add(21, "ticket_called", "T8", counter=1)
    return rows


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=["at", "kind", "ticket", "service", "priority",
                                        "counter"], lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue()


@pytest.fixture
def branch_file(tmp_path):
    path = tmp_path / "branch.toml"
    path.write_text(BRANCH, encoding="utf-8")
    return path


def live_day(tmp_path, branch_file, rows) -> tuple[dict, object]:
    """The same day through the live API (an app with an injected clock): what each
    ticket's POST /tickets answered."""
    clock = FakeClock(T0)
    app = make_app(f"sqlite:///{tmp_path / 'live.sqlite'}", clock, config_path=branch_file,
                   forecast_sync=True)
    api = Api(app).login("admin", ADMIN_PASSWORD)
    ids, printed = {}, {}
    for row in rows:
        clock.now = datetime.fromisoformat(row["at"])
        k, c = row["kind"], row["counter"]
        if k == "ticket_issued":
            body = api.post("/tickets", {"service": row["service"], "language": "ar",
                                         "priority": row["priority"] if row["priority"] != "none"
                                         else False}).get_json()
            ids[row["ticket"]] = body["id"]
            printed[row["ticket"]] = (body["estimated_wait_minutes"], body["people_ahead"])
            continue
        tid = ids.get(row["ticket"])
        path, payload = {
            "counter_opened": (f"/counters/{c}/open", {}),
            "counter_paused": (f"/counters/{c}/pause", {}),
            "counter_resumed": (f"/counters/{c}/resume", {}),
            "ticket_called": (f"/counters/{c}/call", {"ticket_id": tid}),
            "ticket_started": (f"/counters/{c}/start", {"ticket_id": tid}),
            "ticket_finished": (f"/counters/{c}/finish", {"ticket_id": tid, "outcome": "served"}),
            "ticket_recalled": (f"/counters/{c}/recall", {"ticket_id": tid}),
            "ticket_no_show": (f"/counters/{c}/no-show", {"ticket_id": tid}),
        }.get(k, (None, None))
        if k == "ticket_transferred":
            holder = api.get(f"/tickets/{tid}").get_json()["counter"]
            path, payload = f"/counters/{holder}/transfer", {"ticket_id": tid, "counter": int(c)}
        r = api.post(path, payload)
        assert r.status_code == 200, (row, r.get_json())
    return printed, app


def test_the_replay_prints_what_the_live_api_printed(tmp_path, branch_file):
    rows = fixture_day()
    printed, app = live_day(tmp_path, branch_file, rows)
    app.extensions["tabour"].db.dispose()
    replayed = {r["ticket"]: r for r in replay(branch_file, to_csv(rows))}
    assert set(replayed) == set(printed)
    for ticket, (minutes, ahead) in printed.items():
        r = replayed[ticket]
        assert (r["estimated_wait_minutes"] if r["estimated_wait_minutes"] != "" else None,
                r["people_ahead"]) == (minutes, ahead), ticket
    # not all zeros: the day has queues, and a busy counter's ticket waits
    assert any(m for m, _a in printed.values())
    assert replayed["T7"]["actual_wait_minutes"] and replayed["T8"]["called_at"]


def test_run_py_replay_writes_the_estimates(tmp_path, branch_file):
    events = tmp_path / "events.csv"
    events.write_text(to_csv(fixture_day()), encoding="utf-8")
    out = tmp_path / "out.csv"
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), "replay", "--config",
                           str(branch_file), "--events", str(events), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    got = list(csv.DictReader(out.open()))
    assert [r["ticket"] for r in got] == [f"T{i}" for i in range(1, 9)]
    assert {"estimated_wait_minutes", "people_ahead", "low", "high", "issued_at",
            "called_at", "actual_wait_minutes"} <= set(got[0])


@pytest.mark.parametrize("mutate, line, words", [
    (lambda rows: rows.append({**rows[-1], "kind": "ticket_teleported"}), 37, "unknown kind"),
    (lambda rows: rows.insert(5, {**rows[4], "ticket": "T99", "kind": "ticket_called"}), 7,
     "no earlier row issued"),
    (lambda rows: rows.append({**rows[0], "kind": "counter_closed"}), 37, "time goes backwards"),
    (lambda rows: rows.__setitem__(3, {**rows[3], "service": "Z"}), 5, "unknown service"),
    (lambda rows: rows.__setitem__(5, {**rows[5], "counter": ""}), 7, "needs the counter"),
])
def test_bad_input_names_the_line_and_writes_nothing(tmp_path, branch_file, mutate, line,
                                                     words):
    rows = fixture_day()
    mutate(rows)
    events = tmp_path / "events.csv"
    events.write_text(to_csv(rows), encoding="utf-8")
    out = tmp_path / "out.csv"
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), "replay", "--config",
                           str(branch_file), "--events", str(events), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode != 0
    assert f"line {line}" in done.stderr and words in done.stderr, done.stderr
    assert not out.exists()


def test_a_missing_column_and_a_refused_step_are_named(branch_file):
    with pytest.raises(ReplayError, match="line 1: missing column"):
        read_events("at,kind,ticket,service,priority\n", {"A"}, {1})
    rows = fixture_day()
    rows.insert(4, {**rows[3], "kind": "ticket_finished", "counter": "1"})  # before a start
    with pytest.raises(ReplayError, match="line 6: ticket_finished refused"):
        replay(branch_file, to_csv(rows))


def test_export_then_replay_gives_the_printed_estimates_back(tmp_path, branch_file):
    rows = fixture_day()
    printed, app = live_day(tmp_path, branch_file, rows)
    t = app.extensions["tabour"]
    text = export_day(t.db, "replay-branch", "2026-01-04")
    t.db.dispose()
    exported = list(csv.DictReader(io.StringIO(text)))
    assert [r["kind"] for r in exported].count("ticket_issued") == 8
    assert "ticket_recalled" in {r["kind"] for r in exported}
    assert "counter_resumed" in {r["kind"] for r in exported}
    replayed = replay(branch_file, text)
    by_code = {r["ticket"]: r for r in replayed}
    # exported tickets are named by their ids, issued in the same order
    again = [(int(by_code[f"T{i}"]["estimated_wait_minutes"] or 0), by_code[f"T{i}"]["people_ahead"])
             for i in range(1, 9)]
    assert again == [((m or 0), a) for m, a in (printed[f"T{i}"] for i in range(1, 9))]
