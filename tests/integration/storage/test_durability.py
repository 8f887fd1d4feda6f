"""The durability setting is in force on every connection the server uses.

The kill -9 test (tests/integration/server/test_restart.py) proves that a ticket
is committed before it is acknowledged: a killed process loses nothing it
answered for. It cannot prove the commit reached the disk (the OS keeps what a
killed process wrote), so this test checks the setting that does: SQLite's
``synchronous=FULL`` in WAL mode on each pooled connection, read and write, and
PostgreSQL's ``synchronous_commit`` and ``fsync``."""
from __future__ import annotations

import threading

from sqlalchemy import text

from queue_server.db.database import Database


def test_every_connection_commits_durably(db_url):
    db = Database(db_url)
    seen = []
    barrier = threading.Barrier(6)

    def look(write: bool):
        ctx = db.write() if write else db.read()
        with ctx as conn:
            barrier.wait(timeout=10) if not write else None
            if db.is_sqlite:
                seen.append((conn.exec_driver_sql("PRAGMA synchronous").scalar(),
                             conn.exec_driver_sql("PRAGMA journal_mode").scalar()))
            else:
                seen.append((conn.execute(text("SHOW synchronous_commit")).scalar(),
                             conn.execute(text("SHOW fsync")).scalar()))

    try:
        threads = [threading.Thread(target=look, args=(False,)) for _ in range(6)] + \
                  [threading.Thread(target=look, args=(True,)) for _ in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(20)
        assert len(seen) == 8
        want = (2, "wal") if db.is_sqlite else ("on", "on")  # 2 = FULL
        assert set(seen) == {want}, seen
        if db.is_sqlite:
            assert db.engine.pool.checkedin() >= 6  # several distinct connections were checked
    finally:
        db.dispose()
