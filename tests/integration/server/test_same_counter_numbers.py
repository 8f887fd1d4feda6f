"""Two branches on one server, both with a counter 1 (and the same ticket codes): a
call-next, the wall displays, the counter consoles, the serial LED display and keypad
above each counter 1, and today's report never mix one branch's counter 1 with the
other's."""
from __future__ import annotations

import os

import pytest

from support.serial_cable import Cable

from integration.live_display.helpers import BASE_CONFIG, close, connect, received

COUNTER1 = 'number = 1\nname = "Guichet 1"\nservices = ["A", "E"]'


def serial(cable):
    return (f'\nserial = {{ port = "{cable.path}", model = "tabour", keypad = true, '
            'retry_min_s = 0.02, retry_max_s = 0.1, check_interval_s = 0.02 }')


@pytest.fixture
def two_branches(tmp_path, clock):
    from support.api import Api
    from support.app import make_app
    cable_a, cable_b = Cable(tmp_path / "ttyA1"), Cable(tmp_path / "ttyB1")
    first = BASE_CONFIG.replace(COUNTER1, COUNTER1 + serial(cable_a))
    body = BASE_CONFIG.split("[[branch]]", 1)[1]
    second = ("[[branch]]" + body.replace('code = "casa-hay-hassani"', 'code = "rabat-agdal"', 1)
              .replace(COUNTER1, COUNTER1 + serial(cable_b)))
    config = tmp_path / "branches.toml"
    config.write_text(first + "\n" + second, encoding="utf-8")
    app = make_app(f"sqlite:///{tmp_path / 'tabour.sqlite'}", clock, config_path=config,
                   var_dir=tmp_path / "var")
    t = app.extensions["tabour"]
    from queue_server.db import repo
    with t.db.read() as conn:
        ids = {code: repo.branch_by_code(conn, code).id for code in ("casa-hay-hassani",
                                                                     "rabat-agdal")}
    a, b = ids["casa-hay-hassani"], ids["rabat-agdal"]
    assert len(t.serial_counters.displays) == 2, "both counter 1 displays are configured"
    t.auth.create_user(a, "mgr-a", "password-123", "manager", "Manager A")
    t.auth.create_user(b, "mgr-b", "password-123", "manager", "Manager B")
    branches = {}
    for code, bid, cable, user in (("casa-hay-hassani", a, cable_a, "mgr-a"),
                                   ("rabat-agdal", b, cable_b, "mgr-b")):
        api = Api(app).login(user, "password-123")
        display = connect(app, t.auth.create_device(bid, "display", f"TV {code}"))
        console = connect(app, api.token, view="counter", counter=1)
        received(display, "snapshot")
        received(console, "snapshot")
        branches[code] = {"id": bid, "api": api, "display": display, "console": console,
                          "cable": cable}
    yield branches["casa-hay-hassani"], branches["rabat-agdal"]
    close(app)
    cable_a.close()
    cable_b.close()


def test_counter_1_of_each_branch_stays_in_its_branch(two_branches):
    A, B = two_branches
    for x in (A, B):
        assert x["api"].open(1)["state"] == "open"
    b1 = B["api"].issue("A")  # B's codes run ahead
    b2 = B["api"].issue("A")
    a1 = A["api"].issue("A")
    assert (a1["code"], b1["code"], b2["code"]) == ("A-001", "A-001", "A-002")

    # A's counter 1 calls A's ticket, though B's A-001 waits longer
    r = A["api"].call_next(1)
    assert r.status_code == 200 and r.get_json()["id"] == a1["id"]
    shown = received(A["display"], "ticket_called")[0]
    assert (shown["id"], shown["counter"]) == (a1["id"], 1)
    assert A["cable"].until_text("A-001")[0] == 1
    assert received(A["console"], "ticket_called")[0]["id"] == a1["id"]

    # B's counter 1 calls B's first ticket: the first call B's display and console ever
    # hear is B's own (A's call above would have come first)
    r = B["api"].call_next(1)
    assert r.status_code == 200 and r.get_json()["id"] == b1["id"]
    assert received(B["display"], "ticket_called")[0]["id"] == b1["id"]
    assert received(B["console"], "ticket_called")[0]["id"] == b1["id"]
    assert B["cable"].until_text("A-001")[0] == 1

    # finishing in A and calling again there: A's display, console and LED hear A's
    # next call next, nothing of B's in between
    A["api"].post("/counters/1/start")
    A["api"].post("/counters/1/finish", {"outcome": "served"})
    a2 = A["api"].issue("A")
    assert A["api"].call_next(1).get_json()["id"] == a2["id"]
    assert received(A["display"], "ticket_called")[0]["id"] == a2["id"]
    assert received(A["console"], "ticket_called")[0]["id"] == a2["id"]
    # blank at the finish, then A-002; B's A-001 never. The link writes the latest frame
    # of a counter, so a blank followed at once by the next call may be skipped
    shown = []
    while not shown or shown[-1] != (1, "A-002"):
        [f] = A["cable"].frames(1)
        shown.append((f[0], f[2] if f[1] == "S" else ""))
    assert set(shown) <= {(1, ""), (1, "A-002")}, shown

    # B's keypad on counter 1: finish there, then "next" calls B's A-002, not A's
    B["api"].post("/counters/1/start")
    B["api"].post("/counters/1/finish", {"outcome": "served"})
    B["cable"].until_text("")
    os.write(B["cable"].master, b"n")
    B["cable"].until_text("A-002")
    assert B["api"].get(f"/tickets/{b2['id']}").get_json()["status"] == "called"
    assert A["api"].get(f"/tickets/{a2['id']}").get_json()["counter"] == 1
    assert A["cable"].silent_for(0.3), "B's keypad call reached A's display"

    # each branch's ticket ids are its own: A cannot read or act on B's ticket
    assert A["api"].get(f"/tickets/{b1['id']}").status_code == 404
    assert A["api"].post("/counters/1/finish", {"outcome": "served",
                                                "ticket_id": b2["id"]}).status_code == 404

    # today's report: counter 1 served 1 in each branch, one call each still open
    for x, served in ((A, 1), (B, 1)):
        today = x["api"].get("/reports/today").get_json()
        c1 = next(c for c in today["counters"] if c["number"] == 1)
        assert c1["served"] == served, (x["id"], c1)
        assert today["totals"]["issued"] == 2
    assert A["api"].get("/reports/today?branch=rabat-agdal").status_code == 403
