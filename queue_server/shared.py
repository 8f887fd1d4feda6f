"""State every server process of a deployment shares: rate limits and leases.

- ``Limiter``: wrong passwords, pairing codes, tracking-number guesses, counted
  per client in shared storage (Redis when the deployment has one, else the
  database), so a restart does not forget them and several processes do not
  multiply them. Windows follow the injected clock.
- ``Leases``: one-owner work (serial ports, housekeeping, the embedded printer
  agent) is done by the process whose lease is current; the others stand by and
  take over when it lapses.
"""
from __future__ import annotations

import logging
import math
import os
import socket
from datetime import timedelta
from typing import Callable

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .db import schema as s

log = logging.getLogger("tabour.shared")


class SqlCounters:
    """Fixed-window counters in the ``shared_counters`` table."""

    def __init__(self, db, clock: Callable):
        self.db = db
        self.clock = clock
        dialect = postgresql if not db.is_sqlite else sqlite
        self._insert = dialect.insert

    def hit(self, key: str, ttl_s: float) -> int:
        return self.hit_many([(key, ttl_s)])[0]

    def hit_many(self, hits: list[tuple[str, float]]) -> list[int]:
        """Several counters in one transaction (one commit: one disk sync on SQLite)."""
        now = self.clock()
        counts = []
        with self.db.write() as conn:
            for key, ttl_s in hits:
                expires = now + timedelta(seconds=ttl_s)
                stmt = self._insert(s.shared_counters).values(key=key, count=1,
                                                              expires_at=expires)
                stmt = stmt.on_conflict_do_update(
                    index_elements=[s.shared_counters.c.key],
                    set_={"count": s.shared_counters.c.count + 1}
                ).returning(s.shared_counters.c.count)
                counts.append(conn.execute(stmt).scalar_one())
            if 1 in counts:  # now and then, forget windows that are over
                conn.execute(delete(s.shared_counters).where(
                    s.shared_counters.c.expires_at < now))
        return counts

    def get(self, key: str) -> int:
        with self.db.read() as conn:
            row = conn.execute(select(s.shared_counters.c.count, s.shared_counters.c.expires_at)
                               .where(s.shared_counters.c.key == key)).first()
        if row is None or row.expires_at < self.clock():
            return 0
        return row.count


class RedisCounters:
    def __init__(self, url: str, prefix: str = "tabour"):
        import redis
        self.redis = redis.Redis.from_url(url)
        self.prefix = prefix

    def hit(self, key: str, ttl_s: float) -> int:
        return self.hit_many([(key, ttl_s)])[0]

    def hit_many(self, hits: list[tuple[str, float]]) -> list[int]:
        pipe = self.redis.pipeline()
        for key, ttl_s in hits:
            k = f"{self.prefix}:{key}"
            pipe.incr(k)
            pipe.expire(k, max(1, math.ceil(ttl_s)), nx=True)
        return [int(v) for v in pipe.execute()[0::2]]

    def get(self, key: str) -> int:
        v = self.redis.get(f"{self.prefix}:{key}")
        return int(v) if v else 0


class TooMany(Exception):
    def __init__(self, retry_after_s: int):
        super().__init__(f"retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


class Limiter:
    """At most ``limit`` hits per client in a sliding window of ``window_s`` seconds
    (two fixed windows, the older one weighted by how much of it still overlaps).

    A refusal is remembered in this process until the moment the shared count may let
    the client in again (no hit is counted while refused, and other processes' hits
    only lengthen a refusal): a client hammering a refused door costs no storage
    round trip."""

    MEMO_MAX = 50_000

    def __init__(self, counters, clock: Callable, name: str, limit: int, window_s: float):
        self.counters, self.clock = counters, clock
        self.name, self.limit, self.window_s = name, limit, window_s
        self._refused: dict[str, float] = {}  # client -> until when (clock timestamp)

    def _keys(self, client: str) -> tuple[str, str, float]:
        t = self.clock().timestamp() / self.window_s
        w = math.floor(t)
        return (f"{self.name}:{client}:{w}", f"{self.name}:{client}:{w - 1}", t - w)

    def _counts(self, client: str) -> tuple[int, int, float]:
        cur, prev, frac = self._keys(client)
        return self.counters.get(cur), self.counters.get(prev), frac

    def count(self, client: str) -> float:
        cur, prev, frac = self._counts(client)
        return cur + prev * (1.0 - frac)

    def retry_after(self, cur: int, prev: int, frac: float) -> float:
        """Seconds until ``cur + prev * (1 - frac)`` falls under the limit, no new hit."""
        W, L = self.window_s, self.limit
        if cur < L:  # the older window's share must fade: prev * (1 - f) < L - cur
            f = 1.0 - (L - cur) / prev if prev else frac
            return max(0.0, (f - frac) * W)
        # this window alone is over: wait for it to become the older one, then fade
        return (1.0 - frac) * W + (1.0 - L / cur) * W

    def check(self, client: str) -> None:
        """Raise ``TooMany`` (with the seconds to wait) when the client is over its limit."""
        now = self.clock().timestamp()
        until = self._refused.get(client)
        if until is not None:
            if now < until:
                raise TooMany(max(1, math.ceil(until - now)))
            self._refused.pop(client, None)
        cur, prev, frac = self._counts(client)
        if cur + prev * (1.0 - frac) >= self.limit:
            wait = self.retry_after(cur, prev, frac) + 0.001
            if len(self._refused) >= self.MEMO_MAX:
                self._refused.clear()
            self._refused[client] = now + wait
            raise TooMany(max(1, math.ceil(wait)))

    def hit(self, client: str) -> None:
        self.counters.hit(*self.hit_of(client))

    def hit_of(self, client: str) -> tuple[str, float]:
        """The counter a hit of ``client`` adds one to, and its lifetime (for
        ``counters.hit_many``: several limiters' hits in one write)."""
        cur, _prev, _f = self._keys(client)
        return cur, self.window_s * 2


def counters_for(settings, db, clock):
    if settings.message_queue and settings.message_queue.startswith("redis"):
        return RedisCounters(settings.message_queue, prefix=f"tabour:{settings.channel}")
    return SqlCounters(db, clock)


class Leases:
    """Named leases in the database. ``hold(name)`` takes or renews one."""

    def __init__(self, db, clock: Callable, owner: str | None = None, ttl_s: float = 30.0):
        self.db, self.clock, self.ttl_s = db, clock, ttl_s
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        dialect = postgresql if not db.is_sqlite else sqlite
        self._insert = dialect.insert

    def hold(self, name: str) -> bool:
        now = self.clock()
        expires = now + timedelta(seconds=self.ttl_s)
        L = s.leases
        with self.db.write() as conn:
            taken = conn.execute(update(L).where(
                L.c.name == name, (L.c.owner == self.owner) | (L.c.expires_at < now))
                .values(owner=self.owner, expires_at=expires)).rowcount
            if taken:
                return True
            stmt = self._insert(L).values(name=name, owner=self.owner, expires_at=expires)
            return conn.execute(stmt.on_conflict_do_nothing(index_elements=[L.c.name])).rowcount == 1

    def release(self, name: str) -> None:
        with self.db.write() as conn:
            conn.execute(delete(s.leases).where(s.leases.c.name == name,
                                                s.leases.c.owner == self.owner))

    def holder(self, name: str) -> str | None:
        with self.db.read() as conn:
            row = conn.execute(select(s.leases).where(s.leases.c.name == name)).first()
        return row.owner if row is not None and row.expires_at >= self.clock() else None
