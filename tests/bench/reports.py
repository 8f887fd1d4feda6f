"""A year of a busy branch, written straight into the database, and the report bench.

    python -m tests.bench.reports          # prints the figures as JSON
    from tests.bench.reports import measure_reports    # `make bench` calls it

The generator simulates branch days (weekdays, opening hours with a morning peak,
a quieter Friday midday, holidays, seasons; five services with their mix and
service times; 20 counters with overlapping skills and an agent each; priority
visitors served first; no-shows, recalls, recycled no-shows, transfers, visitors
who leave, tickets left at closing cancelled by the rollover; counters opened,
paused for lunch and closed) and writes tickets and events with bulk inserts
(executemany on SQLite, COPY on PostgreSQL). About 400,000 tickets and 2 million
events for a year.

The databases are kept between runs under ``var/bench/report-year.sqlite`` and in
the PostgreSQL database ``tabour_bench_year``; a ``bench_meta`` table holds the
generator version, and a database of another version is rebuilt.

``generate_history`` writes a few weeks into an existing database (the e2e test
uses it for the reports page's charts).
"""
from __future__ import annotations

import heapq
import json
import math
import os
import random
import sqlite3
import statistics
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GENERATOR_VERSION = 3
YEAR_FIRST = date(2025, 11, 24)
YEAR_LAST = date(2026, 11, 23)
BENCH_NOW = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)  # the next morning
SQLITE_PATH = ROOT / "var" / "bench" / "report-year.sqlite"
PG_SERVER = os.environ.get("TABOUR_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/")
PG_DB = "tabour_bench_year"
TZ = "Africa/Casablanca"
UTC = timezone.utc

SERVICES = [  # prefix, share of arrivals, mean service minutes, target
    ("A", 0.30, 4.0, 20, {"ar": "التعويضات العائلية", "fr": "Allocations familiales",
                          "en": "Family allowances"}),
    ("B", 0.28, 5.0, 25, {"ar": "المرض والأمومة", "fr": "Maladie et maternité",
                          "en": "Sickness and maternity"}),
    ("C", 0.14, 6.5, 30, {"ar": "المعاشات", "fr": "Pensions et retraites", "en": "Pensions"}),
    ("D", 0.12, 3.0, 10, {"ar": "إيداع الملفات", "fr": "Dépôt de dossiers",
                          "en": "Dossier drop-off"}),
    ("E", 0.16, 2.0, 10, {"ar": "الإرشادات", "fr": "Informations", "en": "Information"}),
]
COUNTER_SKILLS = [
    "AE", "AB", "AB", "AE", "AC", "BA", "BA", "BC", "BE", "BA",
    "CB", "CD", "CA", "DE", "DC", "ED", "EA", "EDABC", "ABCDE", "BAE",
]
AGENTS = ["Fatima Z.", "Youssef B.", "Khadija A.", "Mohamed E.", "Salma R.", "Omar T.",
          "Nadia K.", "Hicham L.", "Imane S.", "Rachid M.", "Zineb H.", "Karim O.",
          "Meryem D.", "Anas F.", "Hajar N.", "Said G.", "Laila C.", "Amine J.",
          "Sanae P.", "Driss V.", "Houda W.", "Ayoub Q.", "Asmae X.", "Tarik Y."]
HOUR_WEIGHTS = {7: 0.3, 8: 1.4, 9: 1.7, 10: 1.6, 11: 1.4, 12: 1.1, 13: 0.8, 14: 1.0, 15: 0.8}
WEEKDAY = {0: 1.30, 1: 1.10, 2: 1.0, 3: 0.95, 4: 0.85}
HOLIDAYS = {"01-01", "01-11", "01-14", "05-01", "07-30", "08-14", "08-20", "08-21", "11-06",
            "11-18"}
PRIORITIES = [("normal", 0.88), ("elderly", 0.08), ("disabled", 0.02), ("pregnant", 0.02)]
CHANNELS = [("kiosk", 0.85), ("phone", 0.07), ("counter", 0.05), ("api", 0.03)]
LANGS = [("ar", 0.55), ("fr", 0.40), ("en", 0.05)]
OUTCOMES = {"A": [("served", 0.80), ("information_given", 0.12), ("redirected", 0.04),
                  ("incomplete_dossier", 0.04)],
            "B": [("served", 0.78), ("information_given", 0.12), ("redirected", 0.05),
                  ("incomplete_dossier", 0.05)],
            "C": [("served", 0.85), ("information_given", 0.10), ("incomplete_dossier", 0.05)],
            "D": [("dossier_received", 0.85), ("incomplete_dossier", 0.15)],
            "E": [("information_given", 0.90), ("redirected", 0.10)]}


def _pick(rng, table):
    x = rng.random()
    for value, p in table:
        x -= p
        if x <= 0:
            return value
    return table[-1][0]


def _sql_ts(dt: datetime) -> str:
    """Naive UTC text, the way SQLAlchemy stores a DateTime in SQLite."""
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass
class T:
    id: int
    service: int      # index in SERVICES (current)
    orig: int
    number: int
    code: str
    day: str
    priority: str
    channel: str
    language: str
    issued: datetime
    queued: datetime
    status: str = "waiting"
    counter_id: int | None = None
    called: datetime | None = None
    started: datetime | None = None
    finished: datetime | None = None
    outcome: str | None = None
    recall_count: int = 0
    recycled: bool = False
    transfer_count: int = 0
    leave_at: datetime | None = None  # the visitor gives up (cancelled) if not called by then
    front: bool = False
    parked: bool = False
    printed: int | None = None
    printed_ahead: int | None = None


@dataclass
class Writer:
    """Collects rows and hands them to the database in bulk."""

    tickets: list = field(default_factory=list)
    events: list = field(default_factory=list)
    next_ticket: int = 1
    next_event: int = 1
    seq: int = 0

    def event(self, branch_id, kind, at, actor, t: T | None, counter_id, service_id, data):
        self.seq += 1
        self.events.append((self.next_event, branch_id, self.seq, kind, at, actor,
                            t.id if t else None, counter_id, service_id,
                            json.dumps(data, ensure_ascii=False)))
        self.next_event += 1


def simulate_day(rng: random.Random, day: date, branch_id: int, service_ids: list,
                 counters: list, w: Writer, volume: float, printed: bool) -> None:
    """One branch day of a busy agency, appended to the writer (events in time order)."""
    tz = ZoneInfo(TZ)
    iso = day.isoformat()
    evs = []  # (at, order, kind, actor, ticket, counter_id, service index, data)
    order = [0]

    def ev(at, kind, actor, t, cid, svc, data):
        order[0] += 1
        evs.append((at, order[0], kind, actor, t, cid, svc, data))

    def local(h, m=0.0):
        return datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(hours=h, minutes=m)

    # arrivals
    friday = day.weekday() == 4
    arrivals = []
    for hour, weight in HOUR_WEIGHTS.items():
        wgt = weight * (0.45 if friday and hour in (12, 13) else 1.0)
        n = _poisson(rng, volume * wgt / sum(HOUR_WEIGHTS.values()))
        start = 50 if hour == 7 else 0
        for _ in range(n):
            arrivals.append(local(hour, rng.uniform(start, 60)))
    arrivals.sort()
    numbers = [0] * len(SERVICES)
    tickets = []
    for at in arrivals:
        svc = _pick(rng, [(i, s[1]) for i, s in enumerate(SERVICES)])
        numbers[svc] += 1
        t = T(w.next_ticket, svc, svc, numbers[svc], f"{SERVICES[svc][0]}-{numbers[svc]:03d}",
              iso, _pick(rng, PRIORITIES), _pick(rng, CHANNELS), _pick(rng, LANGS), at, at)
        w.next_ticket += 1
        if rng.random() < 0.012:
            t.leave_at = at + timedelta(minutes=rng.uniform(8, 45))
        tickets.append(t)
        actor = "device:Entrance" if t.channel == "kiosk" else (
            "device:phone" if t.channel == "phone" else "user:Accueil")
        ev(at, "ticket_issued", actor, t, None, svc, {"channel": t.channel, "code": t.code,
                                                      "priority": t.priority,
                                                      "language": t.language})

    # counters: open at 08:00 (a few late), lunch pause for half of them, close 16:30
    agents = list(AGENTS)
    rng.shuffle(agents)
    state = []
    for i, (cid, skills) in enumerate(counters):
        opened = local(8, rng.uniform(-5, 12))
        pause = None
        if i % 2 == 0:
            p0 = local(12, rng.uniform(15, 45))
            pause = (p0, p0 + timedelta(minutes=rng.uniform(25, 40)))
        state.append({"cid": cid, "number": i + 1, "skills": skills, "agent": agents[i % len(agents)],
                      "open": opened, "pause": pause, "close": local(16, 30),
                      "paused_done": False})
        ev(opened, "counter_opened", "user:" + agents[i % len(agents)], None, cid, None,
           {"counter_number": i + 1, "state": "open"})

    moved = set()  # (service, number) taken by a transferred ticket
    pending = [(t.issued, 0, i, t) for i, t in enumerate(tickets)]  # entries into the queue
    heapq.heapify(pending)
    tie = [len(tickets)]
    queues = [{"prio": deque(), "normal": deque()} for _ in SERVICES]
    free = [(st["open"], k) for k, st in enumerate(state)]
    heapq.heapify(free)
    ahead_est = {}

    def enqueue_until(now):
        while pending and pending[0][0] <= now:
            at, _front, _, t = heapq.heappop(pending)
            q = queues[t.service]["prio" if t.priority != "normal" else "normal"]
            if t.front:
                q.appendleft(t)
            else:
                q.append(t)
            if printed and t.transfer_count == 0 and not t.recycled:
                ahead = sum(len(x["prio"]) + len(x["normal"]) for x in (queues[t.service],))
                ahead_est[t.id] = ahead

    def take(st, now):
        """The next ticket for this counter: priority first, then its services in order."""
        best = None
        for s in st["skills"]:
            q = queues[s]["prio"]
            while q and q[0].leave_at is not None and q[0].leave_at < now:
                _leave(q.popleft())
            if q and (best is None or q[0].queued < best[1][0].queued):
                best = (s, q)
        if best is None:
            for s in st["skills"]:
                q = queues[s]["normal"]
                while q and q[0].leave_at is not None and q[0].leave_at < now:
                    _leave(q.popleft())
                if q:
                    best = (s, q)
                    break
        return best[1].popleft() if best else None

    def _leave(t):
        t.status, t.finished = "cancelled", t.leave_at
        ev(t.leave_at, "ticket_cancelled", "user:Accueil", t, None, t.service,
           {"reason": "left", "code": t.code, "priority": t.priority, "language": t.language})

    while free:
        now, k = heapq.heappop(free)
        st = state[k]
        if st["pause"] and not st["paused_done"] and now >= st["pause"][0]:
            st["paused_done"] = True
            ev(now, "counter_paused", "user:" + st["agent"], None, st["cid"], None,
               {"counter_number": st["number"], "state": "paused"})
            back = now + (st["pause"][1] - st["pause"][0])
            ev(back, "counter_opened", "user:" + st["agent"], None, st["cid"], None,
               {"counter_number": st["number"], "state": "open"})
            heapq.heappush(free, (back, k))
            continue
        enqueue_until(now)
        t = take(st, now)
        if t is None:
            nxt = pending[0][0] if pending else None
            if nxt is None or nxt > st["close"]:
                ev(max(now, st["close"]), "counter_closed", "user:" + st["agent"], None,
                   st["cid"], None, {"counter_number": st["number"], "state": "closed"})
                continue
            heapq.heappush(free, (max(nxt, now), k))
            continue
        if now > st["close"] + timedelta(minutes=20):  # the counter has stayed long enough
            # put it back: it will be cancelled at the rollover if nobody calls it
            q = queues[t.service]["prio" if t.priority != "normal" else "normal"]
            q.appendleft(t)
            ev(now, "counter_closed", "user:" + st["agent"], None, st["cid"], None,
               {"counter_number": st["number"], "state": "closed"})
            continue
        actor = "user:" + st["agent"]
        cid = st["cid"]
        svc_id_idx = t.service
        base = {"code": t.code, "priority": t.priority, "language": t.language}
        t.called, t.counter_id, t.status = now, cid, "called"
        ev(now, "ticket_called", actor, t, cid, svc_id_idx,
           {"counter_number": st["number"], "waited_s": int((now - t.queued).total_seconds()),
            **base})
        if printed and t.printed is None:
            real = (now - t.issued).total_seconds() / 60
            t.printed = max(0, round(real * rng.uniform(0.7, 1.2) + rng.gauss(-1.5, 3)))
            t.printed_ahead = ahead_est.get(t.id, 0)
        r = rng.random()
        at = now
        if r < 0.07:  # not there: recalled, then no-show (or recycled once after two recalls)
            at += timedelta(minutes=rng.uniform(0.7, 1.5))
            t.recall_count += 1
            ev(at, "ticket_recalled", actor, t, cid, svc_id_idx,
               {"counter_number": st["number"], "recall_count": t.recall_count, **base})
            if r < 0.012 and not t.recycled:
                at += timedelta(minutes=rng.uniform(0.7, 1.2))
                t.recall_count += 1
                ev(at, "ticket_recalled", actor, t, cid, svc_id_idx,
                   {"counter_number": st["number"], "recall_count": t.recall_count, **base})
                at += timedelta(minutes=rng.uniform(0.5, 1.0))
                t.status, t.recycled, t.recall_count, t.queued, t.front = \
                    "waiting", True, 0, at, False
                ev(at, "ticket_recycled", actor, t, cid, svc_id_idx,
                   {"counter_number": st["number"], **base})
                tie[0] += 1
                heapq.heappush(pending, (at, 1, tie[0], t))
            else:
                at += timedelta(minutes=rng.uniform(0.5, 1.2))
                t.status, t.finished = "no_show", at
                ev(at, "ticket_no_show", actor, t, cid, svc_id_idx,
                   {"counter_number": st["number"], **base})
            heapq.heappush(free, (at, k))
            continue
        if rng.random() < 0.25:  # the display calls again before the visitor arrives
            at += timedelta(seconds=rng.uniform(30, 60))
            t.recall_count += 1
            ev(at, "ticket_recalled", actor, t, cid, svc_id_idx,
               {"counter_number": st["number"], "recall_count": t.recall_count, **base})
        at += timedelta(seconds=rng.uniform(20, 70))
        t.started, t.status = at, "serving"
        ev(at, "ticket_started", actor, t, cid, svc_id_idx,
           {"counter_number": st["number"], **base})
        mean = SERVICES[t.service][2]
        dur = timedelta(minutes=rng.lognormvariate(math.log(mean) - 0.18, 0.6))
        # sent on to another service. A ticket keeps its number there, and the schema
        # holds (service, day, number) unique: only a service that numbers fewer
        # tickets that day can take it (see the report: transfers collide otherwise)
        targets = [i for i in range(len(SERVICES))
                   if i != t.service and numbers[i] < t.number and (i, t.number) not in moved]
        if r < 0.10 and t.transfer_count == 0 and targets:
            to = rng.choice(targets)
            moved.add((to, t.number))
            at += dur / 2
            ev(at, "ticket_transferred", actor, t, cid, to,
               {"counter_number": st["number"], "from_service_id": service_ids[t.service],
                "to_service_id": service_ids[to], "to_counter_number": None,
                "position": "front", **base})
            t.service, t.status, t.front, t.started, t.called = to, "waiting", True, None, None
            t.transfer_count += 1
            t.recall_count = 0
            tie[0] += 1
            heapq.heappush(pending, (at, 0, tie[0], t))
            heapq.heappush(free, (at + timedelta(seconds=20), k))
            continue
        if rng.random() < 0.05 and not t.parked:  # fetches a document, comes back
            t.parked = True
            at += dur * 0.3
            ev(at, "ticket_parked", actor, t, cid, svc_id_idx,
               {"counter_number": st["number"], **base})
            back = at + timedelta(minutes=rng.uniform(5, 15))
            ev(back, "ticket_returned", actor, t, cid, svc_id_idx,
               {"counter_number": st["number"], **base})
            t.status, t.front, t.started, t.recall_count = "waiting", True, None, 0
            tie[0] += 1
            heapq.heappush(pending, (back, 0, tie[0], t))
            heapq.heappush(free, (at + timedelta(seconds=20), k))
            continue
        at += dur
        t.finished, t.status = at, "done"
        t.outcome = _pick(rng, OUTCOMES[SERVICES[t.service][0]])
        ev(at, "ticket_finished", actor, t, cid, svc_id_idx,
           {"counter_number": st["number"], "outcome": t.outcome,
            "served_s": int((at - t.started).total_seconds()), **base})
        heapq.heappush(free, (at + timedelta(seconds=rng.uniform(5, 40)), k))

    # left at closing: cancelled by the rollover the next morning
    enqueue_until(local(30))
    rollover = local(28)  # 04:00 the next day
    for svc in queues:
        for q in (svc["prio"], svc["normal"]):
            for t in q:
                if t.leave_at is not None and t.leave_at < rollover:
                    _leave(t)
                    continue
                t.status, t.finished = "cancelled", rollover
                ev(rollover, "ticket_cancelled", "system:rollover", t, None, t.service,
                   {"reason": "day closed", "code": t.code, "priority": t.priority,
                    "language": t.language})

    evs.sort(key=lambda e: (e[0], e[1]))
    for at, _o, kind, actor, t, cid, svc, data in evs:
        w.event(branch_id, kind, at, actor, t, cid,
                service_ids[svc] if svc is not None else None, data)
    for t in tickets:
        w.tickets.append(t)


def _poisson(rng, lam):
    if lam > 50:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    L, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= L:
            return k
        k += 1


def ticket_row(t: T, branch_id: int, service_ids: list) -> tuple:
    return (t.id, branch_id, service_ids[t.service], t.number, t.code, t.day, t.status,
            t.priority, t.channel, t.language, t.issued, t.queued, t.front, None,
            t.counter_id, t.called, t.started, t.finished, t.recall_count, t.recycled,
            t.transfer_count, t.outcome, None, None, t.printed, t.printed_ahead)


TICKET_COLS = ("id", "branch_id", "service_id", "number", "code", "day", "status", "priority",
               "channel", "language", "issued_at", "queued_at", "front", "target_counter_id",
               "counter_id", "called_at", "started_at", "finished_at", "recall_count",
               "recycled", "transfer_count", "outcome", "note", "idempotency_key",
               "printed_wait_minutes", "printed_people_ahead")
EVENT_COLS = ("id", "branch_id", "seq", "type", "at", "actor", "ticket_id", "counter_id",
              "service_id", "data")


def _day_volume(day: date, base: float) -> float:
    if day.weekday() >= 5 or day.strftime("%m-%d") in HOLIDAYS:
        return 0.0
    season = 1.0
    if day.month == 8:
        season = 0.7   # summer
    elif day.month == 9:
        season = 1.2   # back to school: family allowances
    elif (day.month, day.day) >= (2, 18) and (day.month, day.day) <= (3, 19):
        season = 0.8   # Ramadan 2026 (shorter hours)
    return base * WEEKDAY[day.weekday()] * season


# --- writing into a database ------------------------------------------------------------

class Sink:
    """Bulk writes on SQLite (executemany) or PostgreSQL (COPY)."""

    def __init__(self, url: str):
        self.url = url
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            self.conn = sqlite3.connect(url.split("///", 1)[1])
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=OFF")
        else:
            import psycopg
            self.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))

    def write(self, tickets: list, events: list, branch_id: int, service_ids: list) -> None:
        rows = [ticket_row(t, branch_id, service_ids) for t in tickets]
        if self.sqlite:
            conv = [tuple(_sql_ts(v) if isinstance(v, datetime) else
                          (int(v) if isinstance(v, bool) else v) for v in r) for r in rows]
            self.conn.executemany(f"INSERT INTO tickets ({', '.join(TICKET_COLS)}) VALUES "
                                  f"({', '.join('?' * len(TICKET_COLS))})", conv)
            self.conn.executemany(
                f"INSERT INTO events ({', '.join(EVENT_COLS)}) VALUES "
                f"({', '.join('?' * len(EVENT_COLS))})",
                [e[:4] + (_sql_ts(e[4]),) + e[5:] for e in events])
            self.conn.commit()
            return
        with self.conn.cursor() as cur:
            with cur.copy(f"COPY tickets ({', '.join(TICKET_COLS)}) FROM STDIN") as cp:
                for r in rows:
                    cp.write_row([v.astimezone(UTC).replace(tzinfo=None)
                                  if isinstance(v, datetime) else v for v in r])
            with cur.copy(f"COPY events ({', '.join(EVENT_COLS)}) FROM STDIN") as cp:
                for e in events:
                    cp.write_row(e[:4] + (e[4].astimezone(UTC).replace(tzinfo=None),) + e[5:])
        self.conn.commit()

    def execute(self, sql: str, params=()):
        if self.sqlite:
            cur = self.conn.execute(sql.replace("%s", "?"), params)
        else:
            cur = self.conn.execute(sql, params)
        return cur

    def commit(self):
        self.conn.commit()

    def close(self):
        self.conn.close()


def _branch_layout(sink: Sink, branch_id: int) -> tuple[list, list]:
    services = {r[1]: r[0] for r in sink.execute(
        "SELECT id, prefix FROM services WHERE branch_id = %s", (branch_id,)).fetchall()}
    service_ids = [services[p] for p, *_ in SERVICES]
    rows = sink.execute("SELECT c.id, c.number, s.prefix, cs.rank FROM counters c "
                        "JOIN counter_services cs ON cs.counter_id = c.id "
                        "JOIN services s ON s.id = cs.service_id WHERE c.branch_id = %s "
                        "ORDER BY c.number, cs.rank", (branch_id,)).fetchall()
    by_counter: dict[int, list] = {}
    for cid, _number, prefix, _rank in rows:
        by_counter.setdefault(cid, []).append([p for p, *_ in SERVICES].index(prefix))
    counters = sorted(by_counter.items())
    return service_ids, counters


def generate_history(url: str, branch_id: int, first: date, last: date, per_day: float,
                     seed: int = 7, printed_from: date | None = None,
                     progress=None) -> dict:
    """Write simulated days [first, last] into an existing (migrated, seeded) database,
    after whatever it holds: ids and the branch's event sequence continue."""
    sink = Sink(url)
    try:
        service_ids, counters = _branch_layout(sink, branch_id)
        w = Writer()
        w.next_ticket = (sink.execute("SELECT COALESCE(MAX(id), 0) FROM tickets").fetchone()[0]) + 1
        w.next_event = (sink.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]) + 1
        w.seq = sink.execute("SELECT event_seq FROM branches WHERE id = %s",
                             (branch_id,)).fetchone()[0]
        rng = random.Random(seed)
        n_tickets = n_events = 0
        day = first
        while day <= last:
            volume = _day_volume(day, per_day)
            if volume:
                simulate_day(rng, day, branch_id, service_ids, counters, w, volume,
                             printed_from is not None and day >= printed_from)
            if len(w.events) > 200_000 or day == last:
                sink.write(w.tickets, w.events, branch_id, service_ids)
                n_tickets += len(w.tickets)
                n_events += len(w.events)
                w.tickets, w.events = [], []
                if progress:
                    progress(day, n_tickets, n_events)
            day += timedelta(days=1)
        sink.execute("UPDATE branches SET event_seq = %s WHERE id = %s", (w.seq, branch_id))
        if not sink.sqlite:
            for table in ("tickets", "events"):
                sink.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"(SELECT MAX(id) FROM {table}))")
        sink.commit()
        return {"tickets": n_tickets, "events": n_events}
    finally:
        sink.close()


# --- the bench databases ----------------------------------------------------------------------

BENCH_BRANCH = {
    "code": "bench-year", "timezone": TZ,
    "names": {"ar": "وكالة مزدحمة", "fr": "Agence très fréquentée", "en": "Busy branch"},
    "languages": ["ar", "fr", "en"], "display_languages": ["ar", "fr"],
    "outcomes": ["served", "dossier_received", "information_given", "redirected",
                 "incomplete_dossier"],
    "policy": {"rollover_hour": 4},
    "service": [{"prefix": p, "names": names, "target_wait_minutes": target, "icon": "ticket"}
                for p, _share, _mean, target, names in SERVICES],
    "counter": [{"number": i + 1, "name": f"Guichet {i + 1}", "services": list(skills)}
                for i, skills in enumerate(COUNTER_SKILLS)],
}
PER_DAY = 1580  # about 400,000 tickets over a year of weekdays


def _meta(url: str) -> dict | None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {k: v for k, v in conn.execute(text("SELECT key, value FROM bench_meta"))}
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def ensure_year(url: str, log=print) -> dict:
    """The year's database at ``url``: reused when its generator version matches."""
    meta = _meta(url)
    if meta and meta.get("version") == str(GENERATOR_VERSION):
        return {"tickets": int(meta["tickets"]), "events": int(meta["events"]),
                "branch_id": int(meta["branch_id"]), "generated_s": float(meta["generated_s"]),
                "reused": True}
    _drop(url)
    from queue_server.db.database import Database
    from queue_server.db.migrate import upgrade
    from queue_server.seed import seed
    db = Database(url)
    upgrade(db.engine)
    branch_id = seed(db, [BENCH_BRANCH])[0]
    db.dispose()
    t0 = time.perf_counter()
    counts = generate_history(
        url, branch_id, YEAR_FIRST, YEAR_LAST, PER_DAY, seed=2026,
        printed_from=YEAR_LAST - timedelta(days=90),
        progress=lambda d, n, e: log(f"  {d}: {n} tickets, {e} events"))
    generated_s = round(time.perf_counter() - t0, 1)
    sink = Sink(url)
    sink.execute("CREATE TABLE bench_meta (key VARCHAR(40) PRIMARY KEY, value VARCHAR(200))")
    for k, v in {"version": GENERATOR_VERSION, "tickets": counts["tickets"],
                 "events": counts["events"], "branch_id": branch_id,
                 "generated_s": generated_s, "first": YEAR_FIRST, "last": YEAR_LAST}.items():
        sink.execute("INSERT INTO bench_meta (key, value) VALUES (%s, %s)", (k, str(v)))
    if sink.sqlite:
        sink.execute("ANALYZE")
    else:
        sink.commit()
        sink.conn.autocommit = True
        sink.execute("VACUUM ANALYZE")
    sink.commit()
    sink.close()
    return {**counts, "branch_id": branch_id, "generated_s": generated_s, "reused": False}


def _drop(url: str) -> None:
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    import psycopg
    with psycopg.connect(PG_SERVER + "postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_DB}"')


def bench_urls() -> dict:
    return {"sqlite": f"sqlite:///{SQLITE_PATH}", "postgres": PG_SERVER + PG_DB}


def measure_one(url: str, runs: int = 7, log=print) -> dict:
    """Cold (summaries emptied, the first report fills them) then warm runs of the
    year's report at day grain with every breakdown, serialised to JSON as the API does."""
    from sqlalchemy import delete

    from queue_server import reports
    from queue_server.db import schema
    from queue_server.db.database import Database
    from queue_server.db.migrate import upgrade

    info = ensure_year(url, log)
    db = Database(url)
    upgrade(db.engine)  # a schema newer than the kept database's
    try:
        branch_id = info["branch_id"]
        with db.write() as conn:
            conn.execute(delete(schema.report_days).where(
                schema.report_days.c.branch_id == branch_id))

        def run():
            t0 = time.perf_counter()
            rep = reports.report(db, branch_id, YEAR_FIRST, YEAR_LAST, "day", BENCH_NOW)
            json.dumps(rep)
            return (time.perf_counter() - t0) * 1000, rep

        cold_ms, rep = run()
        warm = [run()[0] for _ in range(runs)]
        # a 31-day report (exact percentiles from the summaries' durations)
        month = [_timed(lambda: reports.report(db, branch_id, YEAR_LAST - timedelta(days=30),
                                               YEAR_LAST, "day", BENCH_NOW)) for _ in range(5)]
        # today so far on a busy day (the dashboard's call): the last day just before
        # its rollover, with all its tickets and events (a time within the generated day
        # would see finished tickets whose events come later)
        at = BENCH_NOW.replace(hour=2, minute=59)

        def today_once():
            with db.read() as conn:
                reports.today(conn, branch_id, at)
        today = [_timed(today_once) for _ in range(9)]
        return {
            "median": round(statistics.median(warm), 1), "max": round(max(warm), 1),
            "n": len(warm), "cold_ms": round(cold_ms, 1),
            "month_ms_median": round(statistics.median(month), 1),
            "today_ms_median": round(statistics.median(today), 1),
            "tickets": info["tickets"], "events": info["events"],
            "arrivals_in_report": rep["totals"]["arrivals"],
            "percentiles": rep["percentiles"],
            "generated_s": info["generated_s"], "reused_database": info["reused"],
        }
    finally:
        db.dispose()


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def measure_reports(log=lambda *a: print(*a, file=sys.stderr)) -> dict:
    """`make bench`: report_year_ms on SQLite and PostgreSQL, and the year's size."""
    out = {"report_year_ms": {}}
    size = {}
    for name, url in bench_urls().items():
        log(f"report bench on {name} ({url})")
        r = measure_one(url, log=log)
        out["report_year_ms"][name] = {k: r[k] for k in ("median", "max", "n", "cold_ms")}
        out.setdefault("report_month_ms", {})[name] = r["month_ms_median"]
        out.setdefault("report_today_ms", {})[name] = r["today_ms_median"]
        size = {"tickets": r["tickets"], "events": r["events"]}
    out["report_year_tickets"] = size.get("tickets")
    out["report_year_events"] = size.get("events")
    out["report_year_note"] = (
        "median/max of n warm runs: a year at day grain with every breakdown and chart, "
        "JSON-serialised, from daily summaries; cold_ms = the first run after emptying the "
        "summaries (it computes and stores 365 days from tickets and events)")
    return out


if __name__ == "__main__":
    print(json.dumps(measure_reports(), indent=2))
