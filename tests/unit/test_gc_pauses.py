"""The server's collector policy (queue_server/gc_pauses.py), with the real gc."""
from __future__ import annotations

import gc

import pytest

from queue_server import gc_pauses
from queue_server.gc_pauses import Pauses


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


@pytest.fixture
def clock():
    c = Clock()
    yield c
    gc.unfreeze()  # the test process goes on unfrozen


def test_settle_freezes_what_is_alive_and_young_collections_skip_it(clock):
    p = Pauses(clock)
    kept = [{"n": i} for i in range(5000)]
    p.settle()
    assert gc.get_freeze_count() >= len(kept)
    assert not any(o is kept for o in gc.get_objects(2))  # out of every generation
    assert p.stats["full"] == 1


def test_freezes_every_minute_and_a_full_collection_waits_for_a_quiet_moment(clock):
    p = Pauses(clock)
    assert p.step() is None
    clock.t += gc_pauses.FREEZE_S
    assert p.step() == "freeze" and p.stats["freezes"] == 1
    assert p.step() is None  # not again until the next minute
    clock.t += gc_pauses.FULL_S
    p.on_batch(1, None, True)  # busy: no full collection now...
    assert p.step() == "freeze"
    clock.t += gc_pauses.QUIET_S  # ...but once quiet
    assert p.step() == "full"


def test_a_full_collection_is_not_put_off_forever_by_a_busy_process(clock):
    p = Pauses(clock)
    clock.t += gc_pauses.FULL_S + gc_pauses.FULL_WAIT_S
    p.on_batch(1, None, True)
    assert p.step() == "full"


def test_garbage_frozen_in_a_cycle_is_reclaimed_by_the_full_collection(clock):
    import weakref

    class Node:
        pass
    a, b = Node(), Node()
    a.other, b.other = b, a
    ref = weakref.ref(a)
    p = Pauses(clock)
    p.freeze()
    del a, b
    gc.collect()
    assert ref() is not None  # frozen: the cycle waits
    p.settle()
    assert ref() is None
