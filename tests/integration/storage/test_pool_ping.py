"""PostgreSQL connections are checked before use only after sitting idle
(db/database.py ``_ping_when_idle``): ``pool_pre_ping`` cost a round trip at every
checkout, one more per transaction under load. A connection that died while idle is
replaced unnoticed; one that dies between two close uses fails once, and the next
use gets a new connection."""
from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

pytestmark = pytest.mark.postgres


def _pid(db) -> int:
    with db.write() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar()


def _kill(url: str, pid: int) -> None:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                         autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    time.sleep(0.1)


def test_ping_only_after_idle_and_dead_connections_are_replaced(pg_databases, monkeypatch):
    from queue_server.db import database
    from queue_server.db.database import Database
    monkeypatch.setattr(database, "PING_IDLE_S", 0.5)
    url = pg_databases.new()
    db = Database(url)
    try:
        pings = []
        real = db.engine.dialect.do_ping
        monkeypatch.setattr(db.engine.dialect, "do_ping",
                            lambda c: (pings.append(1), real(c))[1])
        first = _pid(db)
        assert _pid(db) == first and pings == [], "a connection used a moment ago was pinged"
        # died while idle: the ping at checkout finds it, the pool replaces it
        _kill(url, first)
        time.sleep(0.6)
        second = _pid(db)
        assert second != first and len(pings) == 1
        # died between two close uses: that use fails (a 503 for a request), the next
        # gets a new connection
        _kill(url, second)
        with pytest.raises(DBAPIError) as failed:
            _pid(db)
        assert failed.value.connection_invalidated
        assert _pid(db) not in (first, second)
    finally:
        db.dispose()
