"""The national-network shape end to end: nginx (deploy/nginx) in front of three
server processes on PostgreSQL + Redis. A call made through nginx (landing on some
process) reaches displays that nginx put on OTHER processes; a kiosk ticket reaches
every display."""
from __future__ import annotations

import re
import uuid

import pytest
import requests

from deploy import render
from support.topology import Display, Topology, auth, close_all

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def topology(pg_databases, shared_redis, tmp_path):
    topo = Topology(tmp_path / "topology", pg_databases.new())
    with topo:
        yield topo


def test_the_rendered_example_matches_the_template():
    """deploy/nginx/tabour.conf is what the template renders: edit the template."""
    ex = render.EXAMPLE
    assert render.EXAMPLE_SITE.read_text() == render.site(
        ex["servers"], ex["listen"], ex["server_name"], ex["access_log"]), \
        "run `.venv/bin/python -m deploy.render site > deploy/nginx/tabour.conf`"


def _a_call_at_counter_2(topology, h) -> tuple[dict, str]:
    """Counter 2 opened, a B ticket issued and called there, all through nginx: the
    ticket, and the process (upstream) that answered the call."""
    assert requests.post(f"{topology.url}/api/v1/counters/2/open", headers=h,
                         timeout=5).status_code == 200
    ticket = requests.post(f"{topology.url}/api/v1/tickets", headers=h, timeout=5,
                           json={"service": "B", "language": "ar"}).json()
    called = requests.post(f"{topology.url}/api/v1/counters/2/call-next", headers=h,
                           timeout=5)
    assert called.status_code == 200 and called.json()["code"] == ticket["code"]
    return ticket, called.headers["X-Tabour-Upstream"]


def test_a_call_through_nginx_reaches_displays_on_other_processes(topology):
    token = topology.token()
    h = auth(token)
    r = requests.post(f"{topology.url}/api/v1/devices", headers=h, timeout=5,
                      json={"role": "display", "name": "hall"})
    assert r.status_code == 201
    display_token = r.json()["token"]
    displays, consoles = [], []
    try:
        for _ in range(6):
            displays.append(Display(topology.url, display_token).connect())
        served = {d.upstream for d in displays}
        assert None not in served, "nginx did not say which process took a websocket"
        assert len(served) >= 2, f"every display landed on one process: {served}"
        # consoles of counter 2 on several processes: each process sends the counter's
        # queue to the consoles connected to it (fanout.send_counter_queues)
        for _ in range(4):
            consoles.append(Display(topology.url, token, extra_auth={
                "view": "counter", "counter": 2}).connect())
        assert len({c.upstream for c in consoles}) >= 2, "every console on one process"

        ticket, caller = _a_call_at_counter_2(topology, h)
        elsewhere = [d for d in displays if d.upstream != caller]
        assert elsewhere, f"no display on a process other than the caller's ({caller})"
        for d in displays:
            got = d.wait("ticket_called", lambda e: e["code"] == ticket["code"])
            assert got["counter"] == 2
        for c in consoles:  # on the caller's process and on the others
            c.wait("counter_queue", lambda q: (q["counter"].get("current_ticket") or {})
                   .get("code") == ticket["code"])

        # a kiosk ticket (through nginx) reaches every display, whichever process took it
        kiosk = requests.post(f"{topology.url}/api/v1/devices", headers=h, timeout=5,
                              json={"role": "kiosk", "name": "entrance"}).json()["token"]
        issued = requests.post(f"{topology.url}/api/v1/kiosk/tickets", headers=auth(kiosk),
                               timeout=5, json={"service": "A", "language": "fr",
                                                "idempotency_key": uuid.uuid4().hex})
        assert issued.status_code == 201, issued.text

        def shows_it(summary):
            return any(s["prefix"] == "A" and s["waiting"] >= 1 for s in summary["services"])
        for d in displays:
            d.wait("queue_changed", shows_it)
        for c in consoles:  # counter 2 serves A too: its queue counts the new ticket
            c.wait("counter_queue", lambda q: any(
                s["prefix"] == "A" and s["waiting"] >= 1 for s in q["services"]))
    finally:
        close_all(displays + consoles)


def test_a_calls_audio_is_served_by_every_process(topology):
    """Each process keeps the audio it makes in its own folder; a display fetches a call's
    WAV through nginx, which may hand the request to any process. Every process answers
    it (the URL names what to say: a process without the file makes the same one)."""
    token = topology.token()
    h = auth(token)
    display_token = requests.post(f"{topology.url}/api/v1/devices", headers=h, timeout=5,
                                  json={"role": "display", "name": "hall"}).json()["token"]
    display = Display(topology.url, display_token).connect()
    try:
        ticket, maker = _a_call_at_counter_2(topology, h)  # maker: the announcing process
        said = display.wait("announcement", lambda a: a["code"] == ticket["code"], timeout=30)
        answers = []
        for _ in range(9):  # a new connection each: nginx hands them round the processes
            r = requests.get(topology.url + said["audio_url"], timeout=30,
                             headers={"Connection": "close"})
            answers.append((r.status_code, r.headers.get("X-Tabour-Upstream"), r.content))
        assert [a[0] for a in answers] == [200] * 9, [a[:2] for a in answers]
        assert {a[1] for a in answers} - {maker}, "only the maker's process was asked"
        # the same words (each process's espeak-ng run may differ by a few samples)
        lengths = {len(a[2]) for a in answers}
        assert all(a[2][:4] == b"RIFF" for a in answers)
        assert max(lengths) - min(lengths) < 0.05 * max(lengths), lengths
        # a well-formed name that is not what the URL says to say: refused by every process
        name, _, query = said["audio_url"].partition("?")
        forged = re.sub(r"call-[0-9a-f]{32}", "call-" + "f" * 32, name)
        assert forged != name
        for _ in range(3):
            assert requests.get(f"{topology.url}{forged}?{query}", timeout=30,
                                headers={"Connection": "close"}).status_code == 404
    finally:
        close_all([display])
