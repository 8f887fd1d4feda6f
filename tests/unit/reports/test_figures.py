"""The figure conventions: nearest-rank percentiles, one-minute histograms, service
level, printed estimate vs actual (MAE and bias). Pure: no database."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from queue_server.reports.figures import (
    Dist, Stats, hist_percentile_s, hist_rank_bin, mae_bias, nearest_rank, printed_error,
    service_level_outcome,
)


# --- percentiles: nearest rank ----------------------------------------------------------

def test_nearest_rank_is_an_observed_value_at_rank_ceil_p_n():
    values = list(range(1, 11))  # 1..10
    assert nearest_rank(values, 90) == 9    # ceil(0.9 * 10) = 9
    assert nearest_rank(values, 91) == 10   # ceil(9.1) = 10
    assert nearest_rank(values, 50) == 5
    assert nearest_rank(values, 100) == 10
    assert nearest_rank(values, 0) == 1     # rank 1 at p = 0


def test_the_median_of_an_even_count_is_the_lower_middle_value():
    assert nearest_rank([10, 20, 30, 40], 50) == 20  # not 25: no interpolation


def test_percentile_of_few_values():
    assert nearest_rank([7], 90) == 7
    assert nearest_rank([3, 8], 90) == 8
    assert nearest_rank([], 90) is None
    with pytest.raises(ValueError):
        nearest_rank([1], 101)


def test_dist_percentile_sorts_its_values():
    d = Dist()
    for s in (300, 60, 1200, 90, 30):
        d.add(s)
    assert d.percentile_s(50) == 90
    assert d.percentile_s(90) == 1200
    assert d.mean_s() == (300 + 60 + 1200 + 90 + 30) / 5


def test_durations_are_whole_seconds_and_never_negative():
    d = Dist()
    d.add(59.9)
    d.add(-3)  # a clock step backwards: counted as 0
    assert d.values == [59, 0] and d.total == 59 and d.hist == [2]


# --- histograms (ranges over 31 days) ------------------------------------------------------

def test_histogram_percentile_is_the_upper_edge_of_the_minute_holding_the_rank():
    # 10 waits: minutes 0,0,1,1,1,2,5,5,9,30 -> rank 9 (p90) is in minute 9
    hist = [0] * 31
    for m in (0, 0, 1, 1, 1, 2, 5, 5, 9, 30):
        hist[m] += 1
    assert hist_rank_bin(hist, 90) == 9
    assert hist_percentile_s(hist, 90) == 600   # 10 minutes: the edge above 9:xx
    assert hist_percentile_s(hist, 50) == 120   # rank 5 in minute 1 -> 2 minutes
    assert hist_percentile_s([], 90) is None


@given(st.lists(st.integers(min_value=0, max_value=4 * 3600), min_size=1, max_size=300),
       st.sampled_from([50, 75, 90, 95, 99]))
def test_histogram_percentile_bounds_the_exact_one_within_a_minute(values, p):
    exact = Dist()
    coarse = Dist()
    for v in values:
        exact.add(v)
        coarse.add(v)
    coarse.values = None  # what a summary of many days keeps
    e, c = exact.percentile_s(p), coarse.percentile_s(p)
    assert e < c <= e + 60
    assert c == (e // 60 + 1) * 60          # exactly the upper edge of the exact value's minute


def test_merging_exact_with_histogram_only_loses_exactness_not_counts():
    a, b = Dist(), Dist()
    a.add(100)
    b.add(200)
    b.values = None
    a.merge(b)
    assert not a.exact and a.n == 2 and a.total == 300 and a.hist == [0, 1, 0, 1]


# --- service level -----------------------------------------------------------------------------

def test_service_level_counts_a_call_within_the_target_strictly():
    target = 20
    assert service_level_outcome(19 * 60 + 59, None, target) == (1, 1)
    assert service_level_outcome(20 * 60, None, target) == (0, 1)     # 20:00 is a miss
    assert service_level_outcome(45 * 60, None, target) == (0, 1)


def test_a_ticket_never_called_counts_only_once_past_the_target():
    assert service_level_outcome(None, 5 * 60, 20) == (0, 0)    # left early: neither
    assert service_level_outcome(None, 20 * 60, 20) == (0, 1)   # still waiting at 20:00
    assert service_level_outcome(None, None, 20) == (0, 0)
    assert service_level_outcome(300, None, None) == (0, 0)     # no target, no level


def test_service_level_of_a_group_is_met_over_counted():
    st_ = Stats()
    # called at 5, 12, 25 min (target 20): 2 met; one waiting 30 min; one cancelled at 3 min
    for wait, unserved in ((300, None), (720, None), (1500, None), (None, 1800), (None, 180)):
        met, counted = service_level_outcome(wait, unserved, 20)
        st_.sl_met += met
        st_.sl_total += counted
    f = st_.figures()
    assert (f["sl_met"], f["sl_total"]) == (2, 4)
    assert f["service_level"] == 0.5


# --- printed estimate vs actual ----------------------------------------------------------------

def test_printed_error_is_actual_minus_printed():
    assert printed_error(12 * 60, 10) == 120     # waited 2 minutes longer than printed
    assert printed_error(8 * 60, 10) == -120


def test_mae_and_bias():
    mae, bias = mae_bias([120, -60, 0, 300])
    assert math.isclose(mae, (120 + 60 + 0 + 300) / 4 / 60)
    assert math.isclose(bias, (120 - 60 + 0 + 300) / 4 / 60)
    assert mae_bias([]) is None


def test_stats_report_printed_figures_or_say_they_are_missing():
    st_ = Stats()
    assert st_.figures()["printed_mae_min"] is None and st_.figures()["printed_n"] == 0
    for err in (120, -60, 0, 300):
        st_.add_printed(err)
    f = st_.figures()
    assert f["printed_n"] == 4
    assert f["printed_mae_min"] == round(480 / 4 / 60, 1)   # 2.0
    assert f["printed_bias_min"] == round(360 / 4 / 60, 1)  # 1.5


def test_rates_and_rounding():
    st_ = Stats(arrivals=3, no_show=1, cancelled=2)
    f = st_.figures()
    assert f["no_show_rate"] == 0.3333 and f["cancellation_rate"] == 0.6667
    assert Stats().figures()["no_show_rate"] is None   # no arrival: no rate, not 0
