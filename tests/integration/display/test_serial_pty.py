"""Serial counter displays and keypads against real pseudo-terminals.

The display's port is a symlink in a temp dir pointing at a pty slave (like
/dev/serial/by-id/...). "Pulling the cable" deletes the link and closes the pty pair;
"plugging it back" makes a new pair and re-points the link.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from support.serial_cable import Cable
from display.serial_display import (
    LinkState,
    SerialCounterDisplay,
    SerialKeypad,
    SerialLink,
    parse_tabour_frame,
)

FAST = dict(retry_min_s=0.02, retry_max_s=0.1, check_interval_s=0.02, write_timeout_s=0.5)


@pytest.fixture(autouse=True)
def time_limit():
    """No test here may hang: hard limit of 10 s each."""

    def _expired(signum, frame):
        raise TimeoutError("serial test exceeded 10 s")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def cable(tmp_path):
    c = Cable(tmp_path / "ttyCOUNTER")
    yield c
    c.close()


def wait_for(predicate, timeout=3.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


@pytest.fixture
def display(cable):
    d = SerialCounterDisplay(cable.path, 9600, "tabour", counter_number=3, **FAST)
    yield d
    d.close()


def test_show_sends_a_checked_frame(cable, display):
    assert display.state == LinkState.IDLE  # opened lazily
    display.show("A-042")
    assert cable.frames(1) == [(3, "S", "A-042")]
    assert display.state == LinkState.CONNECTED
    display.clear()
    assert cable.frames(1) == [(3, "C", "")]


def test_latest_frame_wins_and_nothing_is_garbled_under_threads(cable, display):
    def hammer(n):
        for i in range(40):
            display.show(f"T{n}-{i:03d}")

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    display.show("Z-999")
    assert display.flush(3.0)
    frames = cable.frames(1)
    while frames[-1] != (3, "S", "Z-999"):
        frames += cable.frames(1)  # every byte up to Z-999 belongs to a valid frame
    assert cable.silent_for(0.1)  # and Z-999 is the last thing written
    assert all(f[0] == 3 and f[1] == "S" for f in frames)
    assert len(frames) <= 6 * 40 + 1


def test_survives_cable_pulled_and_replugged_resending_last_frame(cable, display, caplog):
    display.show("A-042")
    assert cable.frames(1) == [(3, "S", "A-042")]

    cable.pull()
    wait_for(lambda: display.state == LinkState.DISCONNECTED)
    assert f"Counter 3 display on {cable.path} is disconnected" in caplog.text
    assert "retrying every 0.1 s" in caplog.text

    cable.plug()  # a new device behind the same path
    assert cable.frames(1) == [(3, "S", "A-042")]  # re-sent without being asked
    assert display.state == LinkState.CONNECTED
    assert display.link.reconnects == 1


def test_frame_shown_while_unplugged_arrives_after_replug(cable, display):
    display.show("A-042")
    cable.frames(1)
    cable.pull()
    wait_for(lambda: display.state == LinkState.DISCONNECTED)
    started = time.monotonic()
    display.show("A-043")  # the caller (server fan-out) is never blocked nor raised at
    display.show("A-044")
    assert time.monotonic() - started < 0.05
    time.sleep(0.2)  # several failed reopen attempts
    cable.plug()
    assert cable.frames(1) == [(3, "S", "A-044")]
    assert cable.silent_for(0.15)  # no stale after it


def test_write_error_alone_detects_the_pull(cable, display, monkeypatch):
    """Without the device-path check, the failed write must still trigger the reconnect."""
    monkeypatch.setattr(display.link, "_device_gone", lambda: False)
    display.show("A-050")
    cable.frames(1)
    cable.pull()
    display.show("A-051")  # this write fails with EIO on the dead pty
    wait_for(lambda: display.state == LinkState.DISCONNECTED)
    cable.plug()
    assert cable.frames(1) == [(3, "S", "A-051")]


def test_flapping_port_backs_off(cable, monkeypatch):
    """A port that opens and is lost at once must not be reopened in a tight loop."""
    link = SerialLink(cable.path, retry_min_s=0.02, retry_max_s=0.2, check_interval_s=0.02)
    opens = []
    real_open = link._open
    monkeypatch.setattr(link, "_open", lambda: opens.append(time.monotonic()) or real_open())
    monkeypatch.setattr(link, "_device_gone", lambda: True)
    try:
        link.send(1, b"x")
        time.sleep(1.0)
        assert 4 <= len(opens) <= 12  # 0, .02, .04, .08, .16, then every .2 s
    finally:
        link.close()


def test_missing_port_never_raises(tmp_path):
    d = SerialCounterDisplay(str(tmp_path / "no-such-tty"), counter_number=4, **FAST)
    d.show("A-001")
    d.clear()
    wait_for(lambda: d.state == LinkState.DISCONNECTED)
    started = time.monotonic()
    d.close()
    assert time.monotonic() - started < 1.0
    assert d.state == LinkState.CLOSED
    d.show("A-002")  # after close: ignored, no error


def test_periodic_refresh_resends_the_frame(cable):
    d = SerialCounterDisplay(cable.path, counter_number=7, refresh_s=0.2, **FAST)
    try:
        d.show("B-010")
        assert cable.frames(3, timeout=2.0) == [(7, "S", "B-010")] * 3
    finally:
        d.close()


def test_displays_sharing_an_rs485_bus(cable):
    bus = SerialLink(cable.path, 9600, name="Counter displays bus", **FAST)
    one = SerialCounterDisplay(cable.path, counter_number=1, link=bus)
    two = SerialCounterDisplay(cable.path, counter_number=2, link=bus)
    try:
        one.show("A-001")
        two.show("B-001")
        assert sorted(cable.frames(2)) == [(1, "S", "A-001"), (2, "S", "B-001")]
        cable.pull()
        wait_for(lambda: bus.state == LinkState.DISCONNECTED)
        cable.plug()
        assert sorted(cable.frames(2)) == [(1, "S", "A-001"), (2, "S", "B-001")]
        two.close()  # removes display 2 from the replay, leaves the bus open
        assert bus.state == LinkState.CONNECTED
    finally:
        bus.close()


def test_plain_line_model(cable):
    d = SerialCounterDisplay(cable.path, 9600, "plain-line", counter_number=3, **FAST)
    try:
        d.show("A-042")
        assert cable.raw(7) == b"A-042\r\n"
        d.clear()
        assert cable.raw(2) == b"\r\n"
    finally:
        d.close()


class Keys:
    def __init__(self):
        self.pressed = []
        self.event = threading.Event()

    def __call__(self, key):
        self.pressed.append(key)
        self.event.set()

    def wait(self, count, timeout=3.0):
        wait_for(lambda: len(self.pressed) >= count, timeout)
        return self.pressed


def test_keypad_next_key(cable):
    keys = Keys()
    pad = SerialKeypad(cable.path, keys, **FAST)
    try:
        wait_for(lambda: pad.state == LinkState.CONNECTED)
        os.write(cable.master, b"N")
        assert keys.wait(1) == ["next"]
        os.write(cable.master, b"x\r\nr?M")  # unknown bytes and line ends are ignored
        assert keys.wait(3) == ["next", "recall", "no_show"]
        time.sleep(0.05)
        assert keys.pressed == ["next", "recall", "no_show"]
    finally:
        pad.close()


def test_keypad_survives_failing_callback_and_replug(cable):
    calls = []

    def on_key(key):
        calls.append(key)
        if len(calls) == 1:
            raise RuntimeError("server hiccup")

    pad = SerialKeypad(cable.path, on_key, **FAST)
    try:
        wait_for(lambda: pad.state == LinkState.CONNECTED)
        os.write(cable.master, b"N")
        wait_for(lambda: len(calls) == 1)
        cable.pull()
        wait_for(lambda: pad.state == LinkState.DISCONNECTED)
        cable.plug()
        wait_for(lambda: pad.state == LinkState.CONNECTED)
        os.write(cable.master, b"N")
        wait_for(lambda: len(calls) == 2)
        assert calls == ["next", "next"]
    finally:
        pad.close()


def test_keypad_and_display_on_one_wire(cable):
    link = SerialLink(cable.path, name="Counter 5 unit", **FAST)
    keys = Keys()
    pad = SerialKeypad(cable.path, keys, link=link)
    d = SerialCounterDisplay(cable.path, counter_number=5, link=link)
    try:
        wait_for(lambda: link.state == LinkState.CONNECTED)
        os.write(cable.master, b"N")
        assert keys.wait(1) == ["next"]
        d.show("C-003")  # the server answered "next" with a call
        assert cable.frames(1) == [(5, "S", "C-003")]
    finally:
        link.close()
