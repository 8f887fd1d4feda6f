"""kill -9 one of three server processes behind nginx in the middle of a load of
kiosk taps and counter calls: displays reconnect (to another process) and resync,
the load goes on with a few failed requests that succeed on retry, no ticket is
lost or called twice, and every call is announced."""
from __future__ import annotations

import collections
import time

import psycopg
import pytest
import requests

from queue_server.announcements import OVERDUE_S
from support.topology import (UNANNOUNCED_CALLS_SQL, Agent, Display, Kiosk, Topology, auth,
                               close_all)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_kill_9_one_process_behind_nginx(pg_databases, shared_redis, tmp_path):
    db = pg_databases.new()
    with Topology(tmp_path / "topology", db) as topo:
        token = topo.token()
        h = auth(token)
        display_token = requests.post(f"{topo.url}/api/v1/devices", headers=h, timeout=5,
                                      json={"role": "display", "name": "hall"}).json()["token"]
        displays = [Display(topo.url, display_token, reconnection=True).connect()
                    for _ in range(6)]
        try:
            for n in (1, 2, 3):
                assert requests.post(f"{topo.url}/api/v1/counters/{n}/open", headers=h,
                                     timeout=5).status_code == 200
            kiosks = [Kiosk(topo.url, token, f"kiosk-{i}", services="AB") for i in range(2)]
            agents = [Agent(topo.url, token, n) for n in (1, 2, 3)]
            for w in kiosks + agents:
                w.start()
            time.sleep(1.5)

            # the process holding the most displays dies without a word
            held = collections.Counter(d.upstream for d in displays)
            victim_addr = held.most_common(1)[0][0]
            victim = topo.by_addr[victim_addr]
            on_victim = [d for d in displays if d.upstream == victim_addr]
            topo.servers[victim].kill9()
            time.sleep(3.0)
            for w in kiosks + agents:
                w.stop.set()
            for w in kiosks + agents:
                w.join(70)

            # displays came back through nginx, on other processes, with a fresh snapshot
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not all(
                    d.client.connected and d.snapshots >= 2 for d in on_victim):
                time.sleep(0.1)
            for d in on_victim:
                assert d.snapshots >= 2, "a display of the killed process did not resync"
                assert d.upstream not in (None, victim_addr)
            assert all(d.client.connected for d in displays)

            # a call made now reaches every display, wherever it reconnected
            assert requests.post(f"{topo.url}/api/v1/tickets", headers=h, timeout=5,
                                 json={"service": "A"}).status_code == 201
            with requests.Session() as s:
                current = agents[0].current(s)
                if current:
                    agents[0].serve(s, current["id"])
            called = requests.post(f"{topo.url}/api/v1/counters/1/call-next", headers=h,
                                   timeout=5)
            assert called.status_code == 200
            for d in displays:
                d.wait("ticket_called", lambda e: e["code"] == called.json()["code"], timeout=10)

            # every call is announced: those the killed process had not said yet by the
            # deployment's housekeeping, once they are overdue (the displays that stayed
            # on the other processes never resync to ask); if the killed process held
            # the housekeeping lease, once its lease (30 s) has passed to another
            unsaid = None
            deadline = time.monotonic() + OVERDUE_S + 30 + 15
            while time.monotonic() < deadline:
                with psycopg.connect(db.replace("+psycopg", "")) as conn:
                    unsaid = conn.execute(UNANNOUNCED_CALLS_SQL).fetchone()[0]
                if not unsaid:
                    break
                time.sleep(0.5)
            assert unsaid == 0, f"{unsaid} calls were never announced"
        finally:
            close_all(displays)

        kiosk_failures = [f for k in kiosks for f in k.failures]
        agent_failures = [f for a in agents for f in a.failures]
        acked = {key: t for k in kiosks for key, t in k.acked.items()}
        print(f"\nkill -9 of process {victim + 1} ({len(on_victim)} of 6 displays on it): "
              f"{len(acked)} taps acknowledged, {len(kiosk_failures)} failed tap attempts "
              f"{collections.Counter(f[1] for f in kiosk_failures)} "
              f"({sum(k.retried_ok for k in kiosks)} taps succeeded on retry), "
              f"{len(agent_failures)} failed agent requests "
              f"{collections.Counter(agent_failures)}, "
              f"{sum(len(a.called) for a in agents)} calls")
        assert all(k.pending is None for k in kiosks), "a retried tap never got its ticket"
        assert len(kiosk_failures) <= 10 and len(agent_failures) <= 10, "more than a few failed"
        assert not [f for f in kiosk_failures if f[1] == 500], "a 500 during the kill"
        assert sum(len(a.called) for a in agents) > 10
        assert max(d.snapshots for d in displays) < 10

    with psycopg.connect(db.replace("+psycopg", "")) as conn:
        rows = dict(conn.execute("SELECT idempotency_key, id FROM tickets "
                                 "WHERE idempotency_key IS NOT NULL").fetchall())
        called_twice = conn.execute(
            "SELECT ticket_id FROM events WHERE type = 'ticket_called' GROUP BY ticket_id "
            "HAVING count(*) > 1").fetchall()
        without_issue = conn.execute(
            "SELECT count(*) FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM events e "
            "WHERE e.ticket_id = t.id AND e.type = 'ticket_issued')").fetchone()[0]
        numbers = conn.execute("SELECT count(*), count(DISTINCT (service_id, day, number)) "
                               "FROM tickets").fetchone()
    for key, t in acked.items():
        assert rows.get(key) == t["id"], f"acknowledged ticket {t['code']} lost"
    assert not called_twice, f"tickets called twice (no recall was made): {called_twice}"
    assert without_issue == 0 and numbers[0] == numbers[1]
