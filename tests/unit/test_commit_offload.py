"""SQLite's COMMIT can run elsewhere (a real thread under gevent: app._commit_thread),
and a transaction is as committed as before."""
from __future__ import annotations

import threading

from sqlalchemy import text

from queue_server.db.database import Database


def test_a_write_commits_through_the_offload_in_another_thread(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'c.sqlite'}")
    seen = []

    def offload(fn, conn):  # what the gevent thread pool does: another thread runs it
        out = {}

        def run():
            seen.append(threading.current_thread().name)
            out["r"] = fn(conn)
        t = threading.Thread(target=run, name="committer")
        t.start()
        t.join()
        return out.get("r")
    with db.write() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    db.commit_offload = offload
    with db.write() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
    assert seen == ["committer"]
    db.commit_offload = None
    other = Database(f"sqlite:///{tmp_path / 'c.sqlite'}")  # a fresh connection sees it
    with other.read() as conn:
        assert conn.execute(text("SELECT x FROM t")).scalar() == 1
    db.dispose()
    other.dispose()
