"""The LED display above counter 3 on a pty pair, fed by the server's fan-out; the cable is
pulled and plugged back; the keypad's "next" key calls the next ticket."""
from __future__ import annotations

import os
import select
import time
import tty

import pytest

from display.serial_display import parse_tabour_frame

from .helpers import app_with, close


class Cable:
    """A pty pair behind a stable symlink (like /dev/serial/by-id/...)."""

    def __init__(self, directory):
        self.path = str(directory / "ttyCOUNTER3")
        self.plug()

    def plug(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        os.symlink(os.ttyname(self.slave), self.path)
        self.buffer = b""

    def pull(self):
        os.unlink(self.path)
        os.close(self.master)
        os.close(self.slave)

    def frames(self, want: int = 1, timeout: float = 5.0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.master], [], [], 0.05)
            if r:
                self.buffer += os.read(self.master, 4096)
            parts = [p for p in self.buffer.split(b"\x02") if b"\x03" in p]
            if len(parts) >= want:
                return [parse_tabour_frame(b"\x02" + p[:p.index(b"\x03") + 3]) for p in parts]
        raise AssertionError(f"no frame within {timeout}s; got {self.buffer!r}")

    def last_text(self, expect, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            frames = self.frames(1, timeout=max(0.05, deadline - time.monotonic()))
            if frames and _text(frames[-1]) == expect:
                return frames
            time.sleep(0.02)
        raise AssertionError(f"display never showed {expect!r}; frames {frames}")


def _text(frame):
    _address, command, text = frame
    return text if command == "S" else ""


COUNTER3 = 'number = 3\nname = "Guichet 3"\nservices = ["B", "A"]'


@pytest.fixture
def setup(tmp_path, clock):
    cable = Cable(tmp_path)
    serial = (f'\nserial = {{ port = "{cable.path}", model = "tabour", keypad = true, '
              'retry_min_s = 0.02, retry_max_s = 0.1, check_interval_s = 0.02 }')
    app, api, _ = app_with(tmp_path, clock, transform=lambda t: t.replace(COUNTER3, COUNTER3 + serial))
    assert app.extensions["tabour"].serial_counters.displays
    yield app, api, cable
    close(app)
    try:
        cable.pull()
    except OSError:
        pass


def test_call_shows_the_code_finish_clears_and_a_pulled_cable_survives(setup):
    app, api, cable = setup
    api.open(3)
    t1, t2 = api.issue("B")["code"], api.issue("B")["code"]
    assert api.call_next(3).status_code == 200
    frames = cable.last_text(t1)
    assert frames[-1][0] == 3  # addressed to counter 3
    api.post("/counters/3/start")
    api.post("/counters/3/finish", {"outcome": "served"})
    cable.last_text("")  # blank when the ticket left the counter

    cable.pull()  # the cable is pulled: the server goes on working
    started = time.monotonic()
    assert api.call_next(3).status_code == 200
    assert time.monotonic() - started < 1.0  # a dead port never slows a counter down
    time.sleep(0.3)
    cable.plug()  # plugged back: the current code is sent again
    cable.last_text(t2, timeout=5)


def test_keypad_next_key_calls_the_next_ticket(setup):
    app, api, cable = setup
    api.open(3)
    t = api.issue("B")
    time.sleep(0.2)  # the link opened the port (lazily, on the keypad's receiver)
    os.write(cable.master, b"n")
    cable.last_text(t["code"])
    assert api.get(f"/tickets/{t['id']}").get_json()["status"] == "called"
