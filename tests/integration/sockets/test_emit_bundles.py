"""Several processes over Redis: a burst of emits (a batch's facts, a summary and its
counters' queues) goes to the other processes as ONE message, in order, and the
receiving process delivers each item only to its own members (fanout.QueueManager)."""
from __future__ import annotations

import json

import socketio
from socketio import RedisManager

from queue_server.fanout import JsonPacket, QueueManager


class Recorder:
    def __init__(self, monkeypatch):
        self.published = []
        monkeypatch.setattr(RedisManager, "_publish",
                            lambda mgr, data: self.published.append(json.loads(json.dumps(data))))


def _server(sent):
    mgr = QueueManager("redis://127.0.0.1:6379/0", channel="tabour-bundle-test")
    server = socketio.Server(client_manager=mgr, serializer=JsonPacket)
    server._send_eio_packet = lambda eio_sid, pkt: sent.append((eio_sid, pkt.data))
    return server, mgr


def _member(mgr, eio_sid, room):
    sid = mgr.connect(eio_sid, "/")
    mgr.enter_room(sid, "/", room)
    return sid


def test_emits_inside_a_bundle_are_published_once_in_order(monkeypatch):
    rec = Recorder(monkeypatch)
    sent = []
    server, mgr = _server(sent)
    _member(mgr, "e1", "b1:counter:1")
    with mgr.bundle():
        server.emit("queue_changed", {"n": 1}, to=["b1:displays", "b1:counters"])
        with mgr.bundle():  # nested: still the one message
            server.emit("counter_queue", {"n": 2}, to="b1:counter:1")
        server.emit("counter_queue", {"n": 3}, to="b1:counter:2")
        assert rec.published == []  # nothing left the process yet
    assert len(rec.published) == 1
    (msg,) = rec.published
    assert msg["method"] == "emit" and msg["host_id"] == mgr.host_id
    assert [(m["event"], m["data"]) for m in msg["bundle"]] == [
        ("queue_changed", [{"n": 1}]), ("counter_queue", [{"n": 2}]),
        ("counter_queue", [{"n": 3}])]
    # the local member got its own item at once, as without a bundle
    assert len(sent) == 1 and '"n":2' in sent[0][1].replace(" ", "")
    # outside a bundle: one publish per emit, as before
    server.emit("ticket_called", {"n": 4}, to="b1:displays")
    assert len(rec.published) == 2 and rec.published[1]["event"] == "ticket_called"


def test_a_bundle_of_one_is_a_plain_message(monkeypatch):
    rec = Recorder(monkeypatch)
    server, mgr = _server([])
    with mgr.bundle():
        server.emit("ticket_called", {"n": 1}, to="b1:displays")
    assert len(rec.published) == 1 and rec.published[0]["event"] == "ticket_called"
    assert "bundle" not in rec.published[0]
    # with this process's id: reading it back from Redis, this process skips it
    assert rec.published[0]["host_id"] == mgr.host_id


def test_another_message_keeps_its_place_after_the_emits_before_it(monkeypatch):
    rec = Recorder(monkeypatch)
    server, mgr = _server([])
    with mgr.bundle():
        server.emit("a", {"n": 1}, to="r1")
        server.emit("b", {"n": 2}, to="r1")
        mgr.disconnect("someone-elsewhere", "/")  # published at once, after a and b
        server.emit("c", {"n": 3}, to="r1")
    assert [m.get("event") or m["method"] for m in rec.published] == [
        "emit", "disconnect", "c"]
    assert [m["event"] for m in rec.published[0]["bundle"]] == ["a", "b"]


def test_a_received_bundle_reaches_local_members_only_in_order(monkeypatch):
    Recorder(monkeypatch)
    sent = []
    _server_, mgr = _server(sent)
    _member(mgr, "e1", "b1:counter:1")
    _member(mgr, "e2", "b1:displays")
    bundle = {"method": "emit", "host_id": "another-process", "bundle": [
        {"method": "emit", "event": "queue_changed", "data": [{"n": 1}], "binary": False,
         "namespace": "/", "room": ["b1:displays", "b1:counters"], "skip_sid": None,
         "callback": None},
        {"method": "emit", "event": "counter_queue", "data": [{"n": 2}], "binary": False,
         "namespace": "/", "room": "b1:counter:2", "skip_sid": None, "callback": None},
        {"method": "emit", "event": "counter_queue", "data": [{"n": 3}], "binary": False,
         "namespace": "/", "room": "b1:counter:1", "skip_sid": None, "callback": None},
    ]}
    mgr._handle_emit(bundle)
    assert [(e, d.replace(" ", "")) for e, d in sent] == [
        ("e2", '2["queue_changed",{"n":1}]'), ("e1", '2["counter_queue",{"n":3}]')]


def test_no_walk_for_binary_parts_and_the_same_message(monkeypatch):
    rec = Recorder(monkeypatch)
    sent = []
    server, mgr = _server(sent)
    _member(mgr, "e1", "b1:displays")
    monkeypatch.setattr(socketio.packet.Packet, "data_is_binary",
                        staticmethod(lambda data: (_ for _ in ()).throw(AssertionError("walked"))))
    server.emit("ticket_called", {"code": "A-001"}, to="b1:displays")
    assert rec.published == [{"method": "emit", "event": "ticket_called",
                              "data": [{"code": "A-001"}], "binary": False, "namespace": "/",
                              "room": "b1:displays", "skip_sid": None, "callback": None,
                              "host_id": mgr.host_id}]
    assert len(sent) == 1


def test_send_to_a_connection_of_this_process_stays_here(monkeypatch):
    """A snapshot to the socket that asked is not published for the other processes
    to read and drop; a sid this process does not hold still goes through Redis."""
    from types import SimpleNamespace

    from queue_server.fanout import FanOut
    rec = Recorder(monkeypatch)
    sent = []
    server, mgr = _server(sent)
    here = mgr.connect("e1", "/")
    fan = SimpleNamespace(socketio=SimpleNamespace(
        server=server, emit=lambda name, payload, **kw: server.emit(name, payload, **kw)))
    FanOut.send_to(fan, here, "snapshot", {"seq": 1})
    assert rec.published == [] and len(sent) == 1
    FanOut.send_to(fan, "a-sid-elsewhere", "snapshot", {"seq": 2})
    assert len(rec.published) == 1 and rec.published[0]["room"] == "a-sid-elsewhere"
    assert len(sent) == 1
