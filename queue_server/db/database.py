"""The database engine and the two kinds of transaction the service layer uses.

SQLite (the embedded default) runs in WAL mode; writes take the write lock up
front with ``BEGIN IMMEDIATE`` so two writers never deadlock upgrading a read
lock, and writers in one process queue on a lock of their own instead of
spinning in SQLite's busy handler (which pushed p99 to hundreds of ms). The lock
is only about speed: correctness comes from the database, so several processes
on one file stay correct.

Commits are fsynced (synchronous=FULL): a power cut at a branch must not lose a
ticket that was printed.

PostgreSQL runs at READ COMMITTED; the service layer uses conditional updates
and row locks where two writers could race.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine

DEFAULT_SQLITE = "tabour.sqlite"


def default_url(var_dir: Path) -> str:
    """The embedded default: SQLite inside the var directory (TABOUR_VAR_DIR, else var/)."""
    return f"sqlite:///{Path(var_dir) / DEFAULT_SQLITE}"


class Database:
    def __init__(self, url: str, durable: bool = True):
        """``durable=False`` (a throwaway replay database) skips the fsync per commit."""
        self.url = url
        self.durable = durable
        self.is_sqlite = url.startswith("sqlite")
        self._model_engine = None
        if self.is_sqlite:
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:" and not path.startswith("file:"):
                # personal data (insured numbers, password hashes): owner-only from the start
                # (SQLite gives its -wal and -shm files the database file's mode)
                from ..private import private_dir, private_file
                private_dir(Path(path).parent)
                private_file(Path(path))
            self.engine: Engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30},
                pool_size=8, max_overflow=32)
            _sqlite_setup(self.engine, durable)
        else:
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://"):]
            self.engine = create_engine(url, pool_size=8, max_overflow=32)
            # the read model's own few connections: see read_model()
            self._model_engine = create_engine(
                url, pool_size=2, max_overflow=6, isolation_level="REPEATABLE READ")
            for engine in (self.engine, self._model_engine):
                _ping_when_idle(engine)
        self._write_lock = threading.Lock() if self.is_sqlite else None
        # write transactions of this process between the end of their work and the end
        # of their after-commit hooks (committing, or applying their batch)
        self.settling = 0
        self._writer = self.engine.execution_options(tabour_write=True)
        self._reader = self.engine if self.is_sqlite else \
            self.engine.execution_options(isolation_level="REPEATABLE READ")
        self._single = self.engine if self.is_sqlite else \
            self.engine.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def write(self, offload: bool = False) -> Connection:
        """A write transaction, committed on success and rolled back on error.

        ``offload``: SQLite's commit (its fsync) runs off the gevent loop (``off_loop``):
        the writer's transactions with group commit, so that a branch's next commands
        can queue meanwhile. Off the loop a commit costs more CPU (the hand-off), so
        other transactions commit in place.

        Functions given to ``after_commit(conn, fn)`` run once the commit succeeded,
        still inside this process's writer lock (SQLite): the read model applies a
        command's batch there, so batches reach it in commit order."""
        hooks: list = []
        settling = False
        with self._write_lock or nullcontext():
            try:
                with self._writer.connect() as conn, conn.begin() as trans:
                    conn.info["tabour_after_commit"] = hooks
                    try:
                        yield conn
                    finally:
                        try:
                            conn.info.pop("tabour_after_commit", None)
                        except Exception:  # a connection the database cut: the real error follows
                            pass
                    self.settling += 1
                    settling = True
                    try:
                        if offload and self.is_sqlite and self.durable:
                            off_loop(trans.commit)
                        else:
                            trans.commit()
                    except BaseException:
                        # a commit that failed (disk full, the connection cut) can leave
                        # the connection inside its transaction, which SQLAlchemy then
                        # counts as ended (and the pool would not roll back): never pool it
                        conn.invalidate()
                        raise
                for fn in hooks:
                    fn()
            finally:
                if settling:
                    self.settling -= 1

    @contextmanager
    def read(self) -> Connection:
        """A read that sees one consistent picture (a snapshot and its sequence
        number agree): SQLite's read transaction is a snapshot already; on
        PostgreSQL each statement would see its own without REPEATABLE READ."""
        with self._reader.connect() as conn:
            yield conn

    @contextmanager
    def write_one(self) -> Connection:
        """A write of ONE statement that needs no transaction around it (it commits by
        itself): on PostgreSQL one round trip instead of three (BEGIN, the statement,
        COMMIT); SQLite: the same as ``write()`` (its writer lock, its fsync)."""
        if self.is_sqlite:
            with self.write() as conn:
                yield conn
            return
        with self._single.connect() as conn:
            yield conn

    @contextmanager
    def read_one(self) -> Connection:
        """A read of ONE statement (its own snapshot): on PostgreSQL outside any
        transaction, one round trip instead of three (BEGIN, the statement, ROLLBACK).
        SQLite: the same as ``read()``."""
        with self._single.connect() as conn:
            yield conn

    @contextmanager
    def read_model(self) -> Connection:
        """A read as ``read()``, for the read model's catch-ups (projections/registry).

        They run while holding a branch's projection lock, and a command holding
        the branch's row lock (issuing, calling) waits for that lock. On PostgreSQL
        they draw from a small pool of their own: taken from the requests' pool,
        such a read could wait for a connection held by a request that itself waits
        for that row lock, and every one of them would wait until the pool's timeout
        (measured: the whole deployment stalled at 150 branches). A holder of one of
        these connections only runs plain reads, which never wait for a lock, so it
        always gives it back. SQLite: the same as ``read()`` (its reads never wait)."""
        engine = self._model_engine
        if engine is None:
            with self.read() as conn:
                yield conn
            return
        with engine.connect() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()
        if self._model_engine is not None:
            self._model_engine.dispose()


def off_loop(fn):
    """``fn()`` on a real thread when the process runs under gevent, waiting for it
    cooperatively; a plain call otherwise.

    SQLite's commit is an fsync (synchronous=FULL), a few ms to tens of ms on a busy
    disk, and sqlite3 releases the GIL for it; called on the loop it stops every
    request of the process meanwhile (py-spy: 56 % of an issuing server's samples).
    Off the loop, the others go on, and the commands of a branch arriving meanwhile
    queue in the writer and share the next commit (commands/writer.py)."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is None or not monkey.is_module_patched("threading"):
        return fn()
    import gevent
    return gevent.get_hub().threadpool.apply(fn)


def after_commit(conn: Connection, fn) -> None:
    """Run ``fn()`` once the write transaction of ``conn`` has committed."""
    conn.info["tabour_after_commit"].append(fn)


PING_IDLE_S = 2.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it sat idle for ``PING_IDLE_S``.

    SQLAlchemy's ``pool_pre_ping`` costs a round trip (``SELECT 1``) at every checkout:
    under load, one more per transaction (~4 % of a loaded server's samples in
    bench-national) for connections used a moment ago. A connection idle for a while
    (PostgreSQL may have restarted meanwhile) is still checked; one that dies between
    two close uses fails its statement, which SQLAlchemy reports as a disconnect: the
    request answers 503 ``database_unavailable`` (api/errors.py), the pool drops every
    connection older than the failure, and the retry gets a new one."""
    from sqlalchemy import event, exc

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi, record):
        record.info["tabour_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi, record, _proxy):
        since = record.info.get("tabour_idle_since")
        if since is None or time.monotonic() - since < PING_IDLE_S:
            return  # new, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi)  # what pool_pre_ping runs (autocommit kept)
        except Exception as e:  # the pool replaces it (and tries again, up to 3 times)
            raise exc.DisconnectionError(str(e)) from e


def _sqlite_setup(engine: Engine, durable: bool = True) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # let SQLAlchemy's "begin" event decide how a transaction starts
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL" if durable else "PRAGMA synchronous=OFF")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if conn.get_execution_options().get("tabour_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def database_url_from_env(root: Path) -> str:
    var_dir = os.environ.get("TABOUR_VAR_DIR") or Path(root) / "var"
    return os.environ.get("TABOUR_DATABASE_URL") or default_url(var_dir)
