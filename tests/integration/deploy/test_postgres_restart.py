"""PostgreSQL restarted under load (a PRIVATE cluster: initdb in a temp folder, never
the shared server). Requests during the outage fail fast with a clear 503
`database_unavailable`, succeed on retry with their Idempotency-Key once it is back,
and nothing is half-written: no ticket without its event, no call without its
counter (counter agents call, start and finish through the outage too)."""
from __future__ import annotations

import time

import psycopg
import pytest
import requests

from support.topology import Agent, Kiosk, PrivatePostgres, Topology, auth

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def private_pg(tmp_path):
    pg = PrivatePostgres(tmp_path)
    try:
        yield pg.init()
    finally:
        pg.destroy()


def test_postgres_restart_mid_load(private_pg, shared_redis, tmp_path):
    db = private_pg.create_database("tabour")
    with Topology(tmp_path / "topology", db, processes=2) as topo:
        token = topo.token()
        for n in (1, 2):  # both serve A, the kiosks' service
            assert requests.post(f"{topo.url}/api/v1/counters/{n}/open", headers=auth(token),
                                 timeout=10).status_code == 200
        kiosks = [Kiosk(topo.url, token, f"kiosk-{i}") for i in range(3)]
        agents = [Agent(topo.url, token, n) for n in (1, 2)]
        for w in kiosks + agents:
            w.start()
        # load before the outage: a few tickets acknowledged (a loaded machine takes longer
        # than the second this used to sleep: 4 in CI once)
        deadline = time.monotonic() + 20
        while sum(len(k.acked) for k in kiosks) <= 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        before = sum(len(k.acked) for k in kiosks)
        assert before > 5, "no load before the outage"
        calls_before = sum(len(a.called) for a in agents)

        down_at = time.monotonic()
        private_pg.stop("fast")  # every connection dropped, nothing listens
        time.sleep(0.5)
        health = requests.get(f"{topo.url}/api/v1/health", timeout=10)
        t0 = time.monotonic()
        r = requests.post(f"{topo.url}/api/v1/tickets", headers=auth(token), timeout=10,
                          json={"service": "A"})
        took = time.monotonic() - t0
        time.sleep(2.0)
        private_pg.start()
        up_at = time.monotonic()
        time.sleep(1.5)
        for w in kiosks + agents:
            w.stop.set()
        for w in kiosks + agents:
            w.join(70)

        # during the outage: a clear 503 saying what is wrong, fast
        assert health.status_code == 503 and health.json()["database"] is False
        assert r.status_code == 503, (r.status_code, r.text)
        assert r.json()["error"]["code"] == "database_unavailable"
        assert took < 5, f"a request during the outage took {took:.1f}s"
        failures = [f for k in kiosks for f in k.failures]
        assert failures, "no request failed during the outage"
        odd = [f for f in failures if f[1] != 503 or f[2] != "database_unavailable"]
        assert not odd, f"failures other than 503 database_unavailable: {odd[:5]}"
        assert max(f[3] for f in failures) < 5, "a failing request hung"
        # a request still in flight when PostgreSQL stopped may fail too (on a loaded
        # machine one sent 0.9 s before the stop was still waiting: CI, 2026-11-30);
        # one that had ended before it, or was sent well after the restart, may not
        outside = [f for f in failures if f[0] + f[3] < down_at or f[0] > up_at + 5]
        assert not outside, f"failures while PostgreSQL was up: {outside[:5]}"

        agent_errors = [e for a in agents for e in a.errors]
        assert agent_errors, "no counter request failed during the outage"
        odd = [e for e in agent_errors if e != (503, "database_unavailable")]
        assert not odd, f"counter failures other than 503 database_unavailable: {odd[:5]}"
        assert all(isinstance(f, int) for a in agents for f in a.failures), \
            [f for a in agents for f in a.failures]  # no request hung or was cut
        assert sum(len(a.called) for a in agents) > calls_before, "no call after the outage"

        # after it: every tap got its ticket once, and the load went on
        assert all(k.pending is None for k in kiosks), "a retried tap never got its ticket"
        acked = {key: t for k in kiosks for key, t in k.acked.items()}
        assert len(acked) > before
        assert len({t["id"] for t in acked.values()}) == len(acked)
        print(f"\nPostgreSQL down {up_at - down_at:.1f}s: {len(failures)} failed attempts, all "
              f"503 database_unavailable, slowest {max(f[3] for f in failures) * 1000:.0f} ms; "
              f"{len(acked)} taps acknowledged ({before} before the outage)")
        after = requests.post(f"{topo.url}/api/v1/tickets", headers=auth(token), timeout=10,
                              json={"service": "A"})
        assert after.status_code == 201

    # nothing half-written: each ticket has exactly one ticket_issued event, each
    # event a ticket, each acknowledged key one ticket, and codes are unique
    with psycopg.connect(db) as conn:
        tickets = dict(conn.execute("SELECT idempotency_key, id FROM tickets "
                                    "WHERE idempotency_key IS NOT NULL").fetchall())
        without_event = conn.execute(
            "SELECT count(*) FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM events e "
            "WHERE e.ticket_id = t.id AND e.type = 'ticket_issued')").fetchone()[0]
        twice = conn.execute("SELECT count(*) FROM (SELECT ticket_id FROM events WHERE type = "
                             "'ticket_issued' GROUP BY ticket_id HAVING count(*) > 1) x"
                             ).fetchone()[0]
        orphans = conn.execute("SELECT count(*) FROM events e LEFT JOIN tickets t ON "
                               "t.id = e.ticket_id WHERE e.ticket_id IS NOT NULL "
                               "AND t.id IS NULL").fetchone()[0]
        codes = conn.execute("SELECT count(*), count(DISTINCT (service_id, day, number)) "
                             "FROM tickets").fetchone()
        called_twice = conn.execute(
            "SELECT ticket_id FROM events WHERE type = 'ticket_called' GROUP BY ticket_id "
            "HAVING count(*) > 1").fetchall()
        # a call is the ticket, its counter and its event together, or nothing
        at_counters = conn.execute(
            "SELECT t.id, t.status, c.number FROM tickets t FULL JOIN counters c "
            "ON c.current_ticket_id = t.id WHERE t.status IN ('called', 'serving') "
            "OR c.current_ticket_id IS NOT NULL").fetchall()
        call_without_event = conn.execute(
            "SELECT count(*) FROM tickets t WHERE t.called_at IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM events e WHERE e.ticket_id = t.id AND e.type = 'ticket_called')"
        ).fetchone()[0]
    assert (without_event, twice, orphans) == (0, 0, 0)
    assert not called_twice, f"tickets called twice: {called_twice}"
    assert all(tid is not None and status in ("called", "serving") and number is not None
               for tid, status, number in at_counters), at_counters
    assert call_without_event == 0
    for key, t in acked.items():
        assert tickets.get(key) == t["id"], f"acknowledged ticket {t['code']} missing"
    assert codes[0] == codes[1], "a ticket number was given twice"
