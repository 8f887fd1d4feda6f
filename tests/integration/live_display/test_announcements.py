"""ticket_called -> the announcer (off the request path) -> `announcement` event with a WAV URL."""
from __future__ import annotations

import io
import wave
from array import array
from datetime import datetime, timedelta, timezone

import pytest

from queue_server.announcements import languages_for
from queue_server.engine.model import Actor, Event

from .helpers import app_with, close, connect, received, recorded


@pytest.fixture
def setup(tmp_path, clock):
    app, api, _ = app_with(tmp_path, clock)
    yield app, api
    close(app)


@pytest.fixture
def setup_db(tmp_path, clock, db_url):
    """As ``setup``, on SQLite and on PostgreSQL (the announcement rows' writes)."""
    app, api, _ = app_with(tmp_path, clock, url=db_url)
    yield app, api
    close(app)


def _peak(wav_bytes: bytes) -> int:
    with wave.open(io.BytesIO(wav_bytes)) as w:
        assert w.getsampwidth() == 2
        frames = array("h", w.readframes(w.getnframes()))
    return max(abs(x) for x in frames)


def test_languages_visitor_first_then_the_branch_second():
    assert languages_for("ar", ["ar", "fr"]) == ["ar", "fr"]
    assert languages_for("fr", ["ar", "fr"]) == ["fr", "ar"]
    assert languages_for("en", ["ar", "fr"]) == ["en", "fr"]
    assert languages_for("fr", ["fr"]) == ["fr"]


def test_tamazight_has_no_voice_the_branch_languages_speak_instead():
    # espeak-ng has no Tamazight voice: the chime, then the display languages that speak
    assert languages_for("zgh", ["ar", "fr"]) == ["ar", "fr"]
    assert languages_for("zgh", ["zgh", "fr"]) == ["fr"]
    assert languages_for("zgh", ["zgh"]) == ["zgh"]  # nothing to speak: the chime alone


def test_calls_in_three_languages_are_announced_in_order_with_audible_wavs(setup):
    app, api = setup
    display = connect(app, api.device("display").token)
    received(display, "snapshot")
    api.open(1)
    codes = [api.issue("A", language=lang)["code"] for lang in ("ar", "fr", "en")]
    for _ in codes:  # three calls within the same second
        assert api.call_next(1).status_code == 200
        api.post("/counters/1/start")
        api.post("/counters/1/finish", {"outcome": "served"})
    anns = received(display, "announcement", 3, timeout=15)
    assert [a["code"] for a in anns] == codes
    assert [a["seq"] for a in anns] == sorted(a["seq"] for a in anns)
    assert [a["languages"] for a in anns] == [["ar", "fr"], ["fr", "ar"], ["en", "fr"]]
    client = app.test_client()
    for a in anns:
        assert not a["fell_back"] and a["counter"] == 1
        r = client.get(a["audio_url"])
        assert r.status_code == 200 and r.mimetype == "audio/wav"
        assert _peak(r.data) > 3000  # chime and speech, not silence


def test_a_recall_is_announced_again(setup):
    app, api = setup
    display = connect(app, api.device("display").token)
    received(display, "snapshot")
    api.open(2)
    api.issue("B", language="ar")
    api.call_next(2)
    api.post("/counters/2/recall")
    first, again = received(display, "announcement", 2, timeout=15)
    assert (first["kind"], again["kind"]) == ("called", "recalled")
    assert first["code"] == again["code"] and again["seq"] > first["seq"]
    recorded(app.extensions["tabour"], 2)  # said, then recorded
    # a display that comes back within 30 s can replay them, and only what it missed
    recent = app.extensions["tabour"].announcer.recent(1, first["seq"])
    assert [a["seq"] for a in recent] == [again["seq"]]


def test_a_language_with_no_voice_falls_back_to_the_chime(setup):
    app, api = setup
    announcer = app.extensions["tabour"].announcer
    display = connect(app, api.device("display").token)
    received(display, "snapshot")
    event = Event("ticket_called", datetime.now(timezone.utc), Actor("user", 1, "t"),
                  ticket_id=1, service_id=None,
                  data={"code": "A-007", "counter_number": 4, "language": "ber"})  # Tamazight
    announcer._display_languages = lambda branch_id: ["ber"]
    payload = announcer.announce(1, 999, event)
    assert payload["fell_back"] and "no voice" in payload["reason"]
    assert payload["languages"] == []  # the chime alone
    (got,) = received(display, "announcement")
    assert got["seq"] == 999
    r = app.test_client().get(got["audio_url"])
    assert r.status_code == 200 and _peak(r.data) > 3000


def test_audio_route_refuses_other_names(setup):
    app, _ = setup
    c = app.test_client()
    assert c.get("/display/audio/..%2F..%2Fetc%2Fpasswd").status_code == 404
    assert c.get("/display/audio/call-" + "0" * 32 + ".wav").status_code == 404


def test_a_process_without_the_audio_makes_the_same_one_from_its_url(setup):
    """Behind nginx another process made the call's WAV (each keeps its own folder): the
    URL says what to say, so this one makes the same audio; only under that name."""
    app, api = setup
    display = connect(app, api.device("display").token)
    received(display, "snapshot")
    api.open(1)
    api.issue("A", language="fr")
    assert api.call_next(1).status_code == 200
    (a,) = received(display, "announcement", timeout=15)
    client = app.test_client()
    made = client.get(a["audio_url"]).data
    name, _, query = a["audio_url"].partition("?")
    assert "branch=1" in query and "code=A-001" in query and "counter=1" in query \
        and "langs=fr%2Car" in query
    path = app.extensions["tabour"].announcer.audio_path(name.rsplit("/", 1)[1])
    path.unlink()  # as on a process that never made it
    assert client.get(name).status_code == 404  # no query: nothing to make it from
    again = client.get(a["audio_url"])
    assert again.status_code == 200 and again.data == made and path.is_file()
    path.unlink()
    for wrong in (query.replace("counter=1", "counter=2"),  # not a call of the branch
                  query.replace("A-001", "A-002"), query.replace("branch=1", "branch=99"),
                  query.replace("A-001", "A-001%2F.."), query.replace("counter=1", "counter=x"),
                  query.replace("langs=fr%2Car", "langs=fr%2Car%2Cen%2Cen"),
                  query.replace("langs=fr%2Car", "langs=..")):
        assert client.get(f"{name}?{wrong}").status_code == 404, wrong
    audio = path.parent
    assert sorted(audio.glob("call-*.wav")) == [], "a refused URL made audio"


def test_a_call_never_announced_is_caught_up_once(setup_db, tmp_path):
    """The process that made a call died before its audio: the next display resync
    announces it (late rather than never), once, and a known announcement is never
    emitted twice."""
    app, api = setup_db
    t = app.extensions["tabour"]
    announcer = t.announcer
    made = []
    announcer.submit = lambda b, seq, e: made.append((b, seq, e))  # the dead process's queue
    api.open(1)
    code = api.issue("A", language="fr")["code"]
    api.call_next(1)
    assert [e.data["code"] for _, _, e in made] == [code]
    del announcer.submit  # back to the real queue; nothing was announced
    display = connect(app, api.device("display").token)
    received(display, "snapshot")
    assert announcer.catch_up(1) == 1
    (got,) = received(display, "announcement", timeout=15)
    assert got["code"] == code and got["seq"] == made[0][1]
    assert announcer.catch_up(1) == 0  # once
    # a process catching it up late that finds it recorded already does not say it again
    again = announcer.announce(1, got["seq"], made[0][2], late=True)
    assert again["seq"] == got["seq"]
    with pytest.raises(AssertionError):
        received(display, "announcement", timeout=1.5)
    r = app.test_client().get("/display/announcements?after=0",
                              headers={"Authorization": "Bearer " + api.device("display").token})
    assert [a["seq"] for a in r.get_json()["announcements"]] == [got["seq"]]


def test_calls_a_dead_process_never_announced_are_announced_by_housekeeping(setup_db, clock):
    """The process that made the calls died with them in its lanes, and the branch's
    display stayed connected to another process, so it never resyncs: the
    deployment's housekeeping announces each call once it is ``OVERDUE_S`` old, each
    once, all of them (more than a display's call list holds), and never one that
    was announced or is older than ``LATE_S``."""
    from queue_server import announcements as ann
    from queue_server import housekeeping
    from queue_server.readmodel.projection import CALLS_KEPT

    app, api = setup_db
    t = app.extensions["tabour"]
    announcer = t.announcer
    display = connect(app, api.device("display").token)
    received(display, "snapshot")
    api.open(1)

    def calls(n):
        codes = []
        for _ in range(n):
            codes.append(api.issue("A", language="fr")["code"])
            assert api.call_next(1).status_code == 200
            api.post("/counters/1/start")
            api.post("/counters/1/finish", {"outcome": "served"})
        return codes

    announced = calls(1)  # a call its process announced
    assert [a["code"] for a in received(display, "announcement", timeout=15)] == announced
    lost = []
    announcer.submit = lambda b, seq, e: lost.append(seq)  # the dead process's lanes
    stale = calls(1)
    clock.advance(seconds=ann.LATE_S + 1)  # that one is too old to be said now
    never = calls(CALLS_KEPT + 2)
    assert len(lost) == CALLS_KEPT + 3
    del announcer.submit  # the calls of a live process, and housekeeping, run in one
    fresh = calls(1)
    assert [a["code"] for a in received(display, "announcement", timeout=15)] == fresh
    recorded(t, 2)  # a process says its call, then records it: wait for the record
    assert housekeeping.announce_overdue(t) == 0  # not overdue yet: its process may be slow
    clock.advance(seconds=ann.OVERDUE_S + 1)
    assert housekeeping.announce_overdue(t) == len(never)
    got = received(display, "announcement", len(never), timeout=30)
    assert [a["code"] for a in got] == never  # in the order they were called
    assert housekeeping.announce_overdue(t) == 0  # once
    with pytest.raises(AssertionError):
        received(display, "announcement", timeout=1.5)
    assert not {stale[0], announced[0], fresh[0]} & set(never)
    assert len(announcer._caught) == len(never)  # each kept, so it is not queued twice...
    clock.advance(seconds=2 * ann.LATE_S + 1)
    assert housekeeping.announce_overdue(t) == 0
    assert not announcer._caught  # ...until no catch-up looks back that far


def test_a_process_killed_between_saying_a_call_and_recording_it_leaves_it_to_be_said_again(
        setup_db, clock):
    """A process says its own call first and records it after. Killed in between, it
    leaves no row, so housekeeping says the call again once it is overdue (a display
    plays each seq once); recorded first, the call would have a row and never be said."""
    from sqlalchemy import select

    from queue_server import announcements as ann
    from queue_server import housekeeping
    from queue_server.db import schema

    app, api = setup_db
    t = app.extensions["tabour"]
    announcer = t.announcer
    display = connect(app, api.device("display").token)
    received(display, "snapshot")

    def killed(*_a):
        raise RuntimeError("killed before the announcement was recorded")
    announcer._keep = killed
    api.open(1)
    code = api.issue("A", language="fr")["code"]
    assert api.call_next(1).status_code == 200
    (first,) = received(display, "announcement", timeout=15)  # said before it died
    assert first["code"] == code
    del announcer._keep  # housekeeping runs in a process that is alive
    with t.db.read() as conn:
        assert conn.execute(select(schema.announcements.c.seq)).fetchall() == []
    clock.advance(seconds=ann.OVERDUE_S + 1)
    assert housekeeping.announce_overdue(t) == 1
    (again,) = received(display, "announcement", timeout=15)
    assert again["seq"] == first["seq"] and again["code"] == code
    with t.db.read() as conn:
        assert [r.seq for r in conn.execute(select(schema.announcements.c.seq))] == [first["seq"]]
    assert housekeeping.announce_overdue(t) == 0


def test_old_announcements_are_deleted_now_and_then(setup_db, clock):
    """A call's announcement row is kept ``KEPT_S`` for late displays; the old ones are
    deleted by an announcement at most every ``PRUNE_S``, not by each one."""
    from sqlalchemy import select

    from queue_server import announcements as ann
    from queue_server.db import schema

    app, api = setup_db
    t = app.extensions["tabour"]

    def kept():
        with t.db.read() as conn:
            return [r.seq for r in conn.execute(select(schema.announcements.c.seq)
                                                .order_by(schema.announcements.c.seq))]

    def announce_a_call():
        api.issue("A", language="fr")
        call = api.call_next(1).get_json()
        api.post("/counters/1/start")
        api.post("/counters/1/finish", {"outcome": "served"})
        event = Event("ticket_called", clock.now, Actor("user", 1, "admin"),
                      ticket_id=call["id"], data={"code": call["code"], "counter_number": 1,
                                                  "language": "fr"})
        seq = 10_000 + len(made)
        made.append(seq)
        t.announcer.announce(1, seq, event)  # as the worker does, now, in this thread
        return seq

    made = []
    api.open(1)
    t.announcer.submit = lambda *a: None  # the worker stays out of it
    first = announce_a_call()
    clock.advance(seconds=ann.KEPT_S + 1)
    second = announce_a_call()  # this process's last prune is long ago: it prunes
    assert first not in kept() and second in kept()
    with t.db.write() as conn:  # a row as old as can be (another process's, say)
        conn.execute(schema.announcements.insert().values(
            branch_id=1, seq=1, payload={}, made_at=clock.now - timedelta(seconds=ann.KEPT_S + 5)))
    clock.advance(seconds=ann.PRUNE_S / 2)
    third = announce_a_call()  # the last prune was under PRUNE_S ago: no delete
    assert 1 in kept() and third in kept()
    clock.advance(seconds=ann.PRUNE_S / 2 + 1)
    fourth = announce_a_call()  # now it deletes
    assert kept() == [second, third, fourth]
