"""Socket.IO hub with Flask-SocketIO's test client: auth on connect, rooms,
snapshot first, sequenced deltas after."""
from __future__ import annotations

import time

import pytest

from support.sio import inbox


def connect(app, token, **auth):
    sio = app.extensions["tabour"].socketio
    return sio.test_client(app, auth={"token": token, **auth})


def wait_for(client, name, timeout=2.0, predicate=lambda a: True):
    """The next received ``name`` event that matches (the fan-out batches summaries a
    few ms later). Nothing else received is thrown away (support/sio.py): this
    helper used to drain every packet and keep only the awaited one, so a summary
    that arrived together with a ``ticket_called`` was lost to the next wait."""
    box = inbox(client)
    return box.wait(name, 1, timeout, predicate), box.packets


def test_connect_without_or_with_a_bad_token_is_refused(app, api):
    assert not connect(app, None).is_connected()
    assert not connect(app, "forged").is_connected()


def test_a_kiosk_cannot_open_the_counter_view(app, api):
    kiosk = api.device("kiosk")
    assert not connect(app, kiosk.token, view="counter").is_connected()
    assert not connect(app, kiosk.token, view="nonsense").is_connected()


def test_display_gets_a_snapshot_then_the_call(app, api):
    display = api.device("display", "hall")
    api.open(3)
    t = api.issue("B", language="ar")
    client = connect(app, display.token)
    assert client.is_connected()
    (snap,), _ = wait_for(client, "snapshot")
    assert snap["view"] == "display" and snap["branch"]["display_languages"] == ["ar", "fr"]
    b = next(s for s in snap["services"] if s["prefix"] == "B")
    assert b["waiting"] == 1
    api.call_next(3)
    (call,), _ = wait_for(client, "ticket_called")
    assert call["code"] == t["code"] and call["counter"] == 3 and call["language"] == "ar"
    assert call["seq"] > snap["seq"] and call["kind"] == "called"
    # no personal data, nothing beyond what a wall shows
    assert set(call) == {"seq", "kind", "id", "code", "counter", "service", "language", "at"}
    changed, _ = wait_for(client, "queue_changed",
                          predicate=lambda p: next(s for s in p["services"]
                                                   if s["prefix"] == "B")["waiting"] == 0)
    assert changed[-1]["seq"] >= call["seq"]


def test_recall_is_another_row_for_the_display(app, api):
    display = api.device("display")
    api.open(1)
    api.issue("A")
    api.call_next(1)
    api.post("/counters/1/recall")
    client = connect(app, display.token)
    (snap,), _ = wait_for(client, "snapshot")
    assert [c["kind"] for c in snap["calls"]] == ["recalled", "called"]
    assert snap["calls"][0]["seq"] > snap["calls"][1]["seq"]


def test_reconnect_gets_a_fresh_snapshot_with_what_was_missed(app, api):
    display = api.device("display")
    api.open(1)
    client = connect(app, display.token)
    (first,), _ = wait_for(client, "snapshot")
    client.disconnect()
    for _ in range(3):
        api.issue("A")
        api.call_next(1)
        api.post("/counters/1/start")
        api.post("/counters/1/finish", {"outcome": "served"})
    client = connect(app, display.token)
    (snap,), _ = wait_for(client, "snapshot")
    assert snap["seq"] > first["seq"]
    assert [c["code"] for c in snap["calls"]] == ["A-003", "A-002", "A-001"]


def test_counter_console_watches_its_counter(app, api):
    agent = api.user("fatima", "agent")
    agent.open(3)  # counter 3 serves B first, then A
    api.issue("B")
    api.issue("A")
    api.issue("A", priority="elderly")
    client = connect(app, agent.token, view="counter", counter=3)
    (snap,), _ = wait_for(client, "snapshot")
    assert snap["queue"]["counter"]["number"] == 3
    # the one ordering rule: the priority ticket first, then the counter's service order
    assert [n["code"] for n in snap["queue"]["next"]] == ["A-002", "B-001", "A-001"]
    agent.call_next(3)
    queue, _ = wait_for(client, "counter_queue",
                        predicate=lambda q: q["current"] is not None)
    assert queue[-1]["current"]["code"] == "A-002"
    assert [n["code"] for n in queue[-1]["next"]] == ["B-001", "A-001"]


def test_a_console_follows_its_own_actions_from_its_counters_push(app, api):
    """console.js asks no snapshot after an action: each action's answer names the branch's
    sequence, and the counter's push at or past it shows the result, closing included
    (a closed counter's console gets its queue too)."""
    agent = api.user("nadia", "agent")
    agent.open(2)
    api.issue("A")
    client = connect(app, agent.token, view="counter", counter=2)
    (snap,), _ = wait_for(client, "snapshot")
    seen = snap["seq"]
    for step, body, shows in (
            ("call-next", {}, lambda q: q["current"]["status"] == "called"),
            ("start", {}, lambda q: q["current"]["status"] == "serving"),
            ("finish", {"outcome": "served"}, lambda q: q["current"] is None),
            ("close", {}, lambda q: q["counter"]["state"] == "closed"
             and "open" in q["allowed"]),
            ("open", {}, lambda q: q["counter"]["state"] == "open")):
        r = agent.post(f"/counters/2/{step}", body)
        assert r.status_code == 200, r.get_json()
        answer = r.get_json()
        assert answer["seq"] > seen, (step, answer)
        seen = answer["seq"]
        (q,), _ = wait_for(client, "counter_queue", predicate=lambda q: q["seq"] >= seen)
        assert shows(q), (step, q)
    # a call-next with nobody waiting changes nothing: no sequence to wait for
    assert agent.post("/counters/2/call-next").status_code == 204


def test_watch_counter_and_sync_validate_their_input(app, api):
    agent = api.user("karim", "agent")
    client = connect(app, agent.token, view="counter")
    wait_for(client, "snapshot")
    bad = client.emit("watch_counter", {"counter": "two"}, callback=True)
    assert bad["ok"] is False and "counter" in bad["error"]["message"]
    missing = client.emit("watch_counter", {"counter": 42}, callback=True)
    assert missing["ok"] is False and "42" in missing["error"]["message"]
    ok = client.emit("watch_counter", {"counter": 4}, callback=True)
    assert ok["ok"] is True and ok["snapshot"]["queue"]["counter"]["number"] == 4
    again = client.emit("sync", {}, callback=True)
    assert again["ok"] and again["snapshot"]["seq"] >= ok["snapshot"]["seq"]
    assert client.emit("sync", {"extra": 1}, callback=True)["ok"] is False


def test_a_revoked_display_is_cut_at_once(app, api):
    r = api.post("/devices", {"role": "display", "name": "tv2"})
    token = r.get_json()["token"]
    client = connect(app, token)
    wait_for(client, "snapshot")
    from sqlalchemy import select
    from queue_server.db import schema
    with api.tabour.db.read() as conn:
        tid = conn.execute(select(schema.tokens.c.id).where(schema.tokens.c.name == "tv2")).scalar()
    api.post(f"/devices/{tid}/revoke")
    # cut by the revocation itself (fanout._cut), not at its next event
    assert not client.is_connected()


def test_kiosk_sees_the_queue_not_each_ticket_nor_the_calls(app, api):
    """A kiosk shows its services' queues (queue_changed); another kiosk's ticket, a
    call and a counter's opening are not its business (kiosk.js reads none of them)."""
    kiosk = api.device("kiosk")
    api.open(1)
    client = connect(app, kiosk.token)
    wait_for(client, "snapshot")
    api.issue("A")
    api.open(2)
    api.call_next(1)
    changed, _ = wait_for(client, "queue_changed", predicate=lambda p: next(
        s for s in p["services"] if s["prefix"] == "A")["waiting"] == 0)
    time.sleep(0.2)
    names = set(inbox(client).names())
    assert not names & {"ticket_issued", "ticket_called", "counter_changed"}, names


def test_a_console_hears_the_facts_of_its_own_counter_only(app, api):
    """console.js resyncs on a call, a change or a state change of ITS counter and
    ignores the others': those go to the counter's room, not to every console of
    the branch. A transfer reaches the counter it goes to as well (counter 4 serves
    B, like counter 3)."""
    one, three = api.user("amal", "agent"), api.user("nadia", "agent")
    one.open(4)
    three.open(3)
    c4 = inbox(connect(app, one.token, view="counter", counter=4))
    c3 = inbox(connect(app, three.token, view="counter", counter=3))
    c4.wait("snapshot")
    c3.wait("snapshot")
    t = api.issue("B")
    three.call_next(3)
    (call,) = c3.wait("ticket_called")
    assert call["code"] == t["code"]
    r = three.post("/counters/3/transfer", {"counter": 4})
    assert r.status_code == 200, r.get_json()
    (moved,) = c4.wait("ticket_changed", predicate=lambda e: e["event"] == "ticket_transferred")
    assert moved["to_counter"] == 4 and moved["counter"] == 3
    c3.wait("ticket_changed", predicate=lambda e: e["event"] == "ticket_transferred")
    three.post("/counters/3/pause")
    (state,) = c3.wait("counter_changed", predicate=lambda e: e["state"] == "paused")
    time.sleep(0.2)
    assert "ticket_called" not in c4.names() and "counter_changed" not in c4.names(), c4.names()


def test_a_call_reaches_each_client_once_in_one_emit(app, api):
    """The fan-out emits a call ONCE to the list of its rooms (encoded once): the wall
    display, the staff console and the dashboard each get it, and a console that also
    follows the ticket (it is in two of the rooms) gets it once, not twice."""
    agent = api.user("nadia", "agent")
    agent.open(3)
    t = api.issue("B")
    display = connect(app, api.device("display", "hall").token)
    console = connect(app, agent.token, view="counter", counter=3)
    boxes = {"display": inbox(display), "console": inbox(console)}
    for box in boxes.values():
        box.wait("snapshot")
    ack = console.emit("watch_ticket", {"ticket_id": t["id"]}, callback=True)
    assert ack["ok"] is True
    agent.call_next(3)
    for name, box in boxes.items():
        (call,) = box.wait("ticket_called")
        assert call["code"] == t["code"], name
    time.sleep(0.3)  # anything sent twice would have come by now
    for name, box in boxes.items():
        assert box.names().count("ticket_called") == 1, name


def test_a_console_is_in_its_counters_room_before_the_snapshot_and_a_refused_switch_keeps_it(
        app, api):
    """A console joins a counter's rooms before its snapshot is read (a fact committed
    meanwhile reaches it, before the snapshot or in it); a refused switch leaves it
    where it was, a switch leaves the old counter's room."""
    agent = api.user("karim", "agent")
    client = connect(app, agent.token, view="counter", counter=4)
    wait_for(client, "snapshot")
    manager = app.extensions["tabour"].socketio.server.manager
    sid = manager.sid_from_eio_sid(client.eio_sid, "/")
    branch = app.extensions["tabour"].auth.authenticate(agent.token).branch_id

    def counter_rooms():
        return sorted(r for r in manager.get_rooms(sid, "/") if ":counter:" in r)

    assert counter_rooms() == [f"b{branch}:counter:4"]
    missing = client.emit("watch_counter", {"counter": 42}, callback=True)
    assert missing["ok"] is False
    assert counter_rooms() == [f"b{branch}:counter:4"]
    assert f"b{branch}:counters" in manager.get_rooms(sid, "/")
    ok = client.emit("watch_counter", {"counter": 2}, callback=True)
    assert ok["ok"] is True
    assert counter_rooms() == [f"b{branch}:counter:2"]
