"""The pure parts of the request limits and the login guard."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from queue_server.api.errors import ApiError
from queue_server.limits import INT_MAX, MAX_DEPTH, check_values, json_depth
from queue_server.login_guard import LoginGuard, TooManyLogins
from queue_server.shared import Limiter, TooMany


class Counts:
    """Counters in a dict: what SqlCounters and RedisCounters share, in memory."""

    def __init__(self):
        self.n = {}

    def hit(self, key, ttl_s):
        return self.hit_many([(key, ttl_s)])[0]

    def hit_many(self, hits):
        out = []
        for key, _ttl in hits:
            self.n[key] = self.n.get(key, 0) + 1
            out.append(self.n[key])
        return out

    def get(self, key):
        return self.n.get(key, 0)


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 23, 8, 30, 7, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


def test_json_depth_counts_nesting_not_brackets_in_strings():
    assert json_depth(b'{"a": [1, {"b": 2}]}') <= 3
    assert json_depth(("[" * 40 + "]" * 40).encode()) > MAX_DEPTH
    assert json_depth(json.dumps({"s": "[" * 100 + "{" * 100}).encode()) == 1
    assert json_depth(json.dumps({"s": '\\"[[[' * 30}).encode()) == 1
    assert json_depth(("[" * MAX_DEPTH + "]" * MAX_DEPTH).encode()) == MAX_DEPTH


def test_check_values_refuses_big_integers_and_nul_anywhere():
    check_values({"a": [1, INT_MAX, {"b": -5, "c": True}], "d": "texte é"})
    for bad in ({"a": INT_MAX + 1}, {"a": [[{"b": -(2**40)}]]}, {"a": "x\x00y"},
                {"k\x00": 1}):
        with pytest.raises(ApiError) as e:
            check_values(bad)
        assert e.value.status == 400


def test_a_refusal_says_how_long_and_ends_then():
    clock, counts = Clock(), Counts()
    lim = Limiter(counts, clock, "t", 5, 60.0)
    for _ in range(5):
        lim.check("a")
        lim.hit("a")
    with pytest.raises(TooMany) as e:
        lim.check("a")
    wait = e.value.retry_after_s
    assert 1 <= wait <= 61
    lim.check("b")  # another client is not concerned
    clock.now += timedelta(seconds=wait - 1)
    with pytest.raises(TooMany):
        lim.check("a")
    clock.now += timedelta(seconds=1)
    lim.check("a")  # exactly when it said


def test_a_device_cookie_is_signed_and_bound_to_its_users():
    clock, counts = Clock(), Counts()
    guard = LoginGuard(counts, clock, b"k" * 32)
    cookie = guard.cookie_after_success(None, "Fatima")
    device = guard.device_of(cookie, "fatima")
    assert device is not None
    assert guard.device_of(cookie, "karim") is None
    assert guard.device_of(cookie[:-2] + "xx", "fatima") is None
    assert LoginGuard(counts, clock, b"o" * 32).device_of(cookie, "fatima") is None
    both = guard.cookie_after_success(cookie, "karim")
    assert guard.device_of(both, "karim") == guard.device_of(both, "fatima") == device


def test_unknown_clients_lock_the_account_a_known_browser_does_not():
    clock, counts = Clock(), Counts()
    guard = LoginGuard(counts, clock, b"k" * 32)
    device = guard.device_of(guard.cookie_after_success(None, "admin"), "admin")
    for i in range(10):
        assert guard.admit(f"10.0.0.{i}", "admin", None) is None
        guard.failed(f"10.0.0.{i}", "admin", None)
    with pytest.raises(TooManyLogins):
        guard.admit("10.0.0.99", "admin", None)
    assert guard.admit("10.0.0.99", "admin", device) == device
    for _ in range(10):  # the known browser's own guesses: its own limit
        guard.failed("10.0.0.99", "admin", device)
    with pytest.raises(TooManyLogins):  # then it is unknown: the account is locked
        guard.admit("10.0.0.99", "admin", device)
