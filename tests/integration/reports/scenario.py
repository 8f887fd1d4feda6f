"""A small branch day played through the real API with a clock the test moves, and the
figures a person computes by hand from it (the tests compare the report with them).

2026-11-23 in Casablanca (UTC+1). Minute m is 08:30 UTC + m, i.e. 09:30 local + m.
Ten tickets, four counters, two agents and the admin; a no-show after a recall, a
transfer A > E, a cancellation by the manager, one ticket left waiting until the
rollover cancels it, printed estimates on three tickets, a dossier with a missing
document, and a note with personal data that no export may show.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from queue_server.db import schema

BASE = datetime(2026, 11, 23, 8, 30, tzinfo=timezone.utc)
DAY = "2026-11-23"
ROLLOVER = datetime(2026, 11, 24, 3, 1, tzinfo=timezone.utc)   # 04:01 local, next day
NOTE = "Mme Benali, tel 0612345678"
INSURED_TAIL = "123456782"


def at(clock, minute: float) -> None:
    clock.now = BASE + timedelta(minutes=minute)


def play(api, clock, until_close: bool = True) -> dict:
    """Play the day; returns the tickets by code (API views) and the staff APIs."""
    from queue_server.dossiers import ids
    at(clock, 0)
    amina = api.user("amina", "agent")
    karim = api.user("karim", "agent")
    manager = api.user("salma", "manager")
    _ok(amina.post("/counters/1/open"))
    _ok(karim.post("/counters/3/open"))
    api.open(4)
    api.open(5)
    issued = {}
    for minute, service, priority, channel in (
            (1, "A", False, "kiosk"), (2, "A", "elderly", "api"), (3, "B", False, "phone"),
            (4, "C", "pregnant", "counter"), (5, "A", False, "kiosk"), (6, "E", False, "kiosk"),
            (7, "B", False, "kiosk"), (8, "D", False, "api"), (9, "A", False, "kiosk"),
            (10, "A", False, "kiosk")):
        at(clock, minute)
        t = api.issue(service, priority=priority, channel=channel)
        issued[t["code"]] = t

    def call(who, counter, minute, expect):
        at(clock, minute)
        r = who.call_next(counter)
        assert r.status_code == 200 and r.get_json()["code"] == expect, r.get_json()

    def step(who, counter, minute, action, body=None):
        at(clock, minute)
        _ok(who.post(f"/counters/{counter}/{action}", body or {}))

    call(amina, 1, 12, "A-002")                 # priority first
    step(amina, 1, 13, "start")
    call(karim, 3, 13, "B-001")
    step(karim, 3, 14, "start")
    call(api, 4, 14, "C-001")
    step(api, 4, 15, "start")
    call(api, 5, 16, "D-001")
    step(api, 5, 17, "start")
    step(amina, 1, 18, "finish", {"outcome": "served", "note": NOTE})
    call(amina, 1, 19, "A-001")
    step(amina, 1, 20, "recall")
    step(api, 5, 20, "finish", {"outcome": "dossier_received"})
    step(amina, 1, 21, "no-show")               # recalled once: a final no-show
    call(api, 5, 21, "E-001")                   # waited 15 min, target 10: a miss
    step(karim, 3, 22, "finish", {"outcome": "information_given"})
    step(api, 5, 22, "start")
    call(amina, 1, 22, "A-003")
    step(amina, 1, 23, "start")
    call(karim, 3, 23, "B-002")
    step(karim, 3, 24, "start")
    step(api, 4, 24, "finish", {"outcome": "served"})
    step(api, 5, 24, "finish", {"outcome": "information_given"})
    step(amina, 1, 25, "transfer", {"service": "E"})   # A-003 -> E (E numbers only 1)
    call(api, 5, 26, "A-003")                   # at the front of E: 1 minute after
    step(api, 5, 27, "start")
    step(api, 5, 30, "finish", {"outcome": "served"})
    step(karim, 3, 31, "finish", {"outcome": "redirected"})
    at(clock, 40)
    _ok(manager.post(f"/tickets/{issued['A-004']['id']}/cancel", {"reason": "left"}))
    at(clock, 41)
    r = api.post("/dossiers", {"type": "old_age_pension",
                               "insured_number": "12345678" + ids.luhn_digit("12345678"),
                               "documents": ["claim_form"], "language": "fr",
                               "idempotency_key": "report-dossier-1", "print": False})
    assert r.status_code == 201, r.get_json()
    if until_close:
        for who, n in ((amina, 1), (karim, 3), (api, 4), (api, 5)):
            step(who, n, 45, "close")
    with api.tabour.db.write() as conn:  # printed estimates chosen for the hand figures
        conn.execute(update(schema.tickets).values(printed_wait_minutes=None,
                                                   printed_people_ahead=None))
        for code, minutes in (("A-002", 5), ("B-001", 12), ("A-005", 30)):
            conn.execute(update(schema.tickets).where(schema.tickets.c.id == issued[code]["id"])
                         .values(printed_wait_minutes=minutes, printed_people_ahead=1))
    return {"tickets": issued, "amina": amina, "karim": karim, "manager": manager}


def _ok(r):
    assert r.status_code < 400, r.get_json()
    return r


# --- by hand ------------------------------------------------------------------------------
# minutes: issue -> first call (wait), start -> finish (service), as played above

WAITS = {"A-001": 18, "A-002": 10, "B-001": 10, "C-001": 10, "A-003": 17, "E-001": 15,
         "B-002": 16, "D-001": 8}
SERVICE_TIMES = {"A-002": 5, "B-001": 8, "C-001": 9, "A-003": 3, "E-001": 2, "B-002": 7,
                 "D-001": 3}
TARGETS = {"A": 20, "B": 25, "C": 30, "D": 10, "E": 10}


def nearest_rank(values, p):
    """By hand: sort, take the value at rank ceil(p * n / 100)."""
    import math
    v = sorted(values)
    return v[max(1, math.ceil(p * len(v) / 100)) - 1]


def minutes(values, p=None):
    if p is None:
        return round(sum(values) / len(values), 1)
    return round(nearest_rank(values, p), 1)


def expected_totals(closed: bool) -> dict:
    waits = list(WAITS.values())
    services = list(SERVICE_TIMES.values())
    met = sum(1 for code, w in WAITS.items() if w < TARGETS[code[0]])
    return {
        "arrivals": 10, "served": 7, "no_show": 1, "cancelled": 2 if closed else 1,
        "cancelled_at_close": 1 if closed else 0, "transferred": 1, "open": 0 if closed else 1,
        "no_show_rate": 0.1, "cancellation_rate": 0.2 if closed else 0.1,
        "wait_mean_min": minutes(waits), "wait_median_min": minutes(waits, 50),
        "wait_p90_min": minutes(waits, 90),
        "service_mean_min": minutes(services), "service_p90_min": minutes(services, 90),
        # called tickets, plus A-004 (31 min without a call when cancelled) and A-005
        # (still waiting, or cancelled at the rollover): both past the 20-minute target
        "sl_met": met, "sl_total": 8 + 2, "service_level": round(met / 10, 4),
        "printed_n": 2, "printed_mae_min": round((5 + 2) / 2, 1),
        "printed_bias_min": round((5 - 2) / 2, 1),
    }


def expected_service(prefix: str) -> dict:
    codes = [c for c in ("A-001", "A-002", "A-003", "A-004", "A-005", "B-001", "B-002",
                         "C-001", "D-001", "E-001") if c[0] == prefix]
    waits = [WAITS[c] for c in codes if c in WAITS]
    services = [SERVICE_TIMES[c] for c in codes if c in SERVICE_TIMES]
    return {"arrivals": len(codes), "wait_mean_min": minutes(waits),
            "wait_median_min": minutes(waits, 50), "wait_p90_min": minutes(waits, 90),
            "service_mean_min": minutes(services), "service_p90_min": minutes(services, 90),
            "sl_met": sum(1 for w in waits if w < TARGETS[prefix])}
