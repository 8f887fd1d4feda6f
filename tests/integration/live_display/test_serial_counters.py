"""The LED display above counter 3 on a pty pair, fed by the server's fan-out; the cable is
pulled and plugged back; the keypad's "next" key calls the next ticket."""
from __future__ import annotations

import os
import time

import pytest

from support.serial_cable import Cable

from .helpers import app_with, close


COUNTER3 = 'number = 3\nname = "Guichet 3"\nservices = ["B", "A"]'


@pytest.fixture
def setup(tmp_path, clock):
    cable = Cable(tmp_path / "ttyCOUNTER3")
    serial = (f'\nserial = {{ port = "{cable.path}", model = "tabour", keypad = true, '
              'retry_min_s = 0.02, retry_max_s = 0.1, check_interval_s = 0.02 }')
    app, api, _ = app_with(tmp_path, clock, transform=lambda t: t.replace(COUNTER3, COUNTER3 + serial))
    assert app.extensions["tabour"].serial_counters.displays
    yield app, api, cable
    close(app)
    cable.close()


def test_call_shows_the_code_finish_clears_and_a_pulled_cable_survives(setup):
    app, api, cable = setup
    api.open(3)
    t1, t2 = api.issue("B")["code"], api.issue("B")["code"]
    assert api.call_next(3).status_code == 200
    assert cable.until_text(t1)[0] == 3  # addressed to counter 3
    api.post("/counters/3/start")
    api.post("/counters/3/finish", {"outcome": "served"})
    cable.until_text("")  # blank when the ticket left the counter

    cable.pull()  # the cable is pulled: the server goes on working
    started = time.monotonic()
    assert api.call_next(3).status_code == 200
    assert time.monotonic() - started < 1.0  # a dead port never slows a counter down
    time.sleep(0.3)
    cable.plug()  # plugged back: the current code is sent again
    cable.until_text(t2, timeout=5)


def test_keypad_next_key_calls_the_next_ticket(setup):
    app, api, cable = setup
    api.open(3)
    t = api.issue("B")
    time.sleep(0.2)  # the link opened the port (lazily, on the keypad's receiver)
    os.write(cable.master, b"n")
    cable.until_text(t["code"])
    assert api.get(f"/tickets/{t['id']}").get_json()["status"] == "called"
