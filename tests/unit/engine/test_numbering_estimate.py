from datetime import datetime, timezone

import pytest

from queue_server.engine.estimate import estimate_wait_minutes, mean_service_minutes
from queue_server.engine.numbering import branch_day, first_number_of_day, ticket_code

from support.engine_factories import policy


def utc(*a):
    return datetime(*a, tzinfo=timezone.utc)


def test_ticket_code_is_zero_padded_and_grows():
    assert ticket_code("A", 1) == "A-001"
    assert ticket_code("B", 42) == "B-042"
    assert ticket_code("C", 1234) == "C-1234"


def test_branch_day_rolls_over_at_the_configured_local_hour():
    # Casablanca is UTC+1: 02:59 UTC is 03:59 local, still the previous branch day
    assert branch_day(utc(2026, 11, 23, 2, 59), "Africa/Casablanca", 4) == "2026-11-22"
    assert branch_day(utc(2026, 11, 23, 3, 0), "Africa/Casablanca", 4) == "2026-11-23"
    # Algiers is UTC+1 too; a rollover at midnight
    assert branch_day(utc(2026, 11, 22, 23, 30), "Africa/Algiers", 0) == "2026-11-23"


def test_branch_day_refuses_naive_times():
    with pytest.raises(ValueError):
        branch_day(datetime(2026, 11, 23, 8), "Africa/Casablanca", 4)


def test_numbering_restarts_each_day_unless_kept_overnight():
    assert first_number_of_day(policy(), [17, 18]) == 0
    assert first_number_of_day(policy(keep_overnight=True), [17, 18]) == 18
    assert first_number_of_day(policy(keep_overnight=True), []) == 0


def test_estimate_uses_default_before_history_then_the_recent_mean():
    pol = policy(default_service_minutes=6)
    assert mean_service_minutes([], pol) == 6
    assert mean_service_minutes([240, 300, 360], pol) == 5
    # noise (a 3 s finish, a 5 h counter left open) is ignored
    assert mean_service_minutes([3, 240, 300, 360, 18000], pol) == 5


def test_estimate_shares_people_among_counters():
    assert estimate_wait_minutes(0, 2, 5) == 0
    assert estimate_wait_minutes(4, 2, 5) == 10
    assert estimate_wait_minutes(3, 0, 5) == 15  # no counter open: counted as one
