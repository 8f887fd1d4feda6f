"""Ranges, grains and periods of a report (pure helpers)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from queue_server.reports.build import (
    MAX_DAYS, ReportError, _runs, check_range, hour_start, period_of,
)
from queue_server.reports.facts import day_window


def test_a_range_is_inclusive_and_bounded():
    assert check_range(date(2026, 11, 1), date(2026, 11, 1), "day") == 1
    assert check_range(date(2026, 1, 1), date(2026, 12, 31), "week") == 365
    with pytest.raises(ReportError) as e:
        check_range(date(2026, 11, 2), date(2026, 11, 1), "day")
    assert e.value.code == "empty_range"
    with pytest.raises(ReportError) as e:
        check_range(date(2016, 1, 1), date(2026, 1, 1), "day")
    assert e.value.code == "range_too_long" and e.value.details["max_days"] == MAX_DAYS
    with pytest.raises(ReportError) as e:
        check_range(date(2026, 1, 1), date(2026, 3, 1), "hour")
    assert e.value.code == "hour_range_too_long" and e.value.details["max_days"] == 31
    with pytest.raises(ReportError) as e:
        check_range(date(2026, 1, 1), date(2026, 1, 2), "month")
    assert e.value.code == "invalid_grain"


def test_weeks_start_on_monday_and_hours_follow_the_clock_past_midnight():
    assert period_of("2026-11-26", "week") == "2026-11-23"  # a Thursday
    assert period_of("2026-11-23", "day") == "2026-11-23"
    # a branch day runs from 04:00 to 04:00: 02:00 belongs to it, on the next calendar day
    assert hour_start("2026-11-23", "02", 4) == "2026-11-24T02:00"
    assert hour_start("2026-11-23", "09", 4) == "2026-11-23T09:00"


def test_a_branch_day_in_its_zone_across_a_clock_change():
    tz = ZoneInfo("Africa/Casablanca")
    start, end = day_window("2026-11-23", tz, 4)
    assert start == datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)   # UTC+1
    assert end == datetime(2026, 11, 24, 3, 0, tzinfo=timezone.utc)
    # Ramadan 2026: Morocco steps back to UTC+0 on 15 February at 03:00: a 25-hour day
    start, end = day_window("2026-02-14", tz, 4)
    assert (end - start).total_seconds() == 25 * 3600


def test_backfill_runs_are_consecutive_and_bounded():
    days = ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-05", "2026-01-06"]
    assert list(_runs(days, 31)) == [days[:3], days[3:]]
    assert list(_runs(days, 2)) == [days[:2], days[2:3], days[3:]]
