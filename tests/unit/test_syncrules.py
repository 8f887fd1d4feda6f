"""The sync's pure rules: checksums of canonical JSON, what a batch does given the ack,
the clock warning, cutting a run of sequence numbers into batches."""
from datetime import datetime, timedelta, timezone

import pytest

from queue_server.engine import syncrules as r


def test_the_checksum_is_of_the_content_not_its_spelling():
    a = {"b": [1, 2], "a": "é"}
    assert r.checksum(a) == r.checksum({"a": "é", "b": [1, 2]})
    assert r.checksum(a) != r.checksum({"a": "e", "b": [1, 2]})
    assert len(r.checksum(a)) == 64


@pytest.mark.parametrize("acked, first, last, verdict", [
    (0, 1, 10, r.APPLY), (10, 11, 20, r.APPLY), (10, 5, 15, r.APPLY),
    (10, 1, 10, r.DUPLICATE), (10, 3, 7, r.DUPLICATE), (10, 12, 20, r.GAP), (0, 2, 2, r.GAP)])
def test_apply_duplicate_or_gap(acked, first, last, verdict):
    assert r.decide(acked, first, last) == verdict


def test_a_batch_that_is_not_a_run_is_refused():
    with pytest.raises(ValueError):
        r.decide(0, 5, 4)
    with pytest.raises(ValueError):
        r.decide(0, 0, 4)


def test_the_clock_warning_is_past_five_minutes_either_way():
    now = datetime(2026, 11, 29, 9, tzinfo=timezone.utc)
    assert r.clock_skew_s(now + timedelta(hours=3), now) == 10800
    assert not r.clock_off(r.clock_skew_s(now + timedelta(minutes=5), now))
    assert r.clock_off(r.clock_skew_s(now - timedelta(minutes=5, seconds=1), now))


def test_batches_cut_a_run():
    assert r.batches(list(range(1, 11)), 4) == [(1, 4), (5, 8), (9, 10)]
    assert r.batches([], 4) == []
