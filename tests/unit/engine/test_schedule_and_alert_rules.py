"""Opening hours, closed days, special hours, the service cut-off (engine/schedule.py)
and when alerts are raised and cleared (engine/alerts.py). Pure: times passed in."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from queue_server.engine.alerts import CLEAR, RAISE, WaitReading, pause_decision, wait_decision
from queue_server.engine.errors import NotAllowed
from queue_server.engine.model import Service
from queue_server.engine.schedule import Schedule, ScheduleError, back_day, check_issue

WEEK = {"mon": [["08:30", "12:00"], ["14:00", "16:30"]], "tue": [["08:30", "16:30"]],
        "wed": [["08:30", "16:30"]], "thu": [["08:30", "16:30"]], "fri": [["08:30", "12:00"]]}
# 2026-11-23 is a Monday
RAMADAN = {"from": "2026-12-01", "to": "2026-12-03", "hours": [["09:00", "15:00"]],
           "note": "Ramadan"}
HOLIDAY = {"from": "2026-11-25", "to": "2026-11-25", "closed": True, "note": "holiday"}
A = Service(1, "A", {"fr": "Allocations", "ar": "التعويضات", "en": "Allowances"})


def at(day: int, hh: int, mm: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hh, mm)


def refusal(schedule, service, local, branch_day) -> NotAllowed:
    with pytest.raises(NotAllowed) as e:
        check_issue(schedule, service, local, branch_day)
    return e.value


def test_weekly_hours_with_a_lunch_break_and_closed_days():
    s = Schedule.from_data({"weekly": WEEK})
    assert s.is_open(at(23, 8, 30)) and s.is_open(at(23, 11, 59))
    assert not s.is_open(at(23, 12, 0)) and not s.is_open(at(23, 8, 29))
    assert s.is_open(at(23, 14, 0)) and not s.is_open(at(23, 16, 30))
    assert not s.is_open(at(28, 10))  # Saturday: not listed, closed
    assert s.next_opening(at(23, 12, 30)) == (date(2026, 11, 23), 14 * 60)
    assert s.next_opening(at(27, 13)) == (date(2026, 11, 30), 8 * 60 + 30)  # Fri pm -> Mon


def test_special_periods_override_the_week_and_the_later_one_wins():
    s = Schedule.from_data({"weekly": WEEK, "special": [RAMADAN, HOLIDAY]})
    assert s.hours_on(date(2026, 11, 25)) == ()  # the holiday
    assert not s.is_open(at(25, 10))
    assert s.hours_on(date(2026, 12, 1)) == ((9 * 60, 15 * 60),)
    assert s.is_open(at(1, 14, 30, month=12)) and not s.is_open(at(1, 8, 45, month=12))
    both = Schedule.from_data({"weekly": WEEK, "special": [
        RAMADAN, {"from": "2026-12-02", "to": "2026-12-02", "closed": True}]})
    assert both.hours_on(date(2026, 12, 2)) == () and both.hours_on(date(2026, 12, 3))
    assert Schedule.from_data(both.to_data()) == both  # stored and read back unchanged


def test_an_antenna_open_two_days_a_week():
    s = Schedule.from_data({"weekly": {"mon": [["09:00", "13:00"]], "thu": [["09:00", "13:00"]]}})
    e = refusal(s, A, at(24, 10), "2026-11-24")  # a Tuesday
    assert e.code == "branch_closed_now"
    assert e.params == {"back_day": "thu", "back_time": "09:00"}


def test_no_hours_set_means_open_at_any_time():
    s = Schedule.from_data(None)
    assert not s.set and s.is_open(at(28, 3))
    check_issue(s, A, at(28, 3), "2026-11-27")  # no refusal


def test_the_cut_off_says_when_to_come_back():
    s = Schedule.from_data({"weekly": WEEK, "special": [HOLIDAY]})
    svc = Service(1, "A", A.names, cutoff="15:30")
    check_issue(s, svc, at(23, 15, 29), "2026-11-23")  # a minute before: fine
    e = refusal(s, svc, at(23, 15, 30), "2026-11-23")
    assert e.code == "service_cut_off"
    assert e.params["back_day"] == "tomorrow" and e.params["back_time"] == "08:30"
    assert e.params["cutoff"] == "15:30" and e.params["service_name"] == A.names
    # Tuesday after the cut-off: Wednesday is a holiday, come back on Thursday
    e = refusal(s, svc, at(24, 15, 45), "2026-11-24")
    assert (e.params["back_day"], e.params["back_time"]) == ("thu", "08:30")
    # Friday: the branch closes at 12:00 before the cut-off; a closed branch is said first
    assert refusal(s, svc, at(27, 13), "2026-11-27").code == "branch_closed_now"
    # after midnight, before the rollover: still yesterday's branch day, past its cut-off
    e = refusal(Schedule(), svc, at(24, 1), "2026-11-23")
    assert e.code == "service_cut_off_no_hours" and e.params["back_day"] == "today"
    e = refusal(Schedule(), svc, at(23, 16), "2026-11-23")
    assert e.code == "service_cut_off_no_hours" and e.params["back_day"] == "tomorrow"


def test_back_day_words():
    today = date(2026, 11, 23)
    assert back_day(today, today) == "today"
    assert back_day(date(2026, 11, 24), today) == "tomorrow"
    assert back_day(date(2026, 11, 26), today) == "thu"
    assert back_day(date(2026, 12, 7), today) == "2026-12-07"


@pytest.mark.parametrize("data, fragment", [
    ({"weekly": {"mon": [["8:30", "16:30"]]}}, "HH:MM"),
    ({"weekly": {"mon": [["16:30", "08:30"]]}}, "closes before it opens"),
    ({"weekly": {"mon": [["08:00", "12:00"], ["11:00", "13:00"]]}}, "overlaps"),
    ({"weekly": {"lun": [["08:00", "12:00"]]}}, "unknown weekday"),
    ({"special": [{"from": "2026-12-05", "to": "2026-12-01", "closed": True}]}, "before it starts"),
    ({"special": [{"from": "2026-12-01", "to": "2026-12-02"}]}, "mark it closed"),
    ({"special": [{"from": "1st of May", "closed": True}]}, "YYYY-MM-DD"),
])
def test_bad_schedules_say_what_is_wrong(data, fragment):
    with pytest.raises(ScheduleError, match=fragment):
        Schedule.from_data(data)


def test_a_wait_alert_is_raised_at_the_target_and_cleared_10_percent_below():
    def reading(longest_min, estimate=None):
        return WaitReading(20, int(longest_min * 60), estimate)
    assert wait_decision(False, reading(19.9)) is None
    assert wait_decision(False, reading(20)) == RAISE  # 20:00 misses a 20-minute target
    assert wait_decision(False, reading(5, estimate=20)) == RAISE  # the estimate alone
    # open: it stays open between 90 % and the target (no flapping)
    assert wait_decision(True, reading(19)) is None
    assert wait_decision(True, reading(18.5)) is None
    assert wait_decision(True, reading(18)) == CLEAR
    assert wait_decision(True, reading(10, estimate=19)) is None  # the estimate still high
    assert wait_decision(True, reading(10, estimate=18)) == CLEAR
    assert wait_decision(True, reading(0, estimate=None)) == CLEAR  # nobody waits any more


def test_a_break_alert_after_the_policy_limit():
    assert pause_decision(False, 19 * 60 + 59, 20) is None
    assert pause_decision(False, 20 * 60, 20) == RAISE
    assert pause_decision(True, 45 * 60, 20) is None  # still on a break: stays open
    assert pause_decision(True, None, 20) == CLEAR  # resumed or closed
    assert pause_decision(False, None, 20) is None
