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
import threading
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
            self.engine = create_engine(url, pool_size=8, max_overflow=32,
                                        pool_pre_ping=True)
            # the read model's own few connections: see read_model()
            self._model_engine = create_engine(
                url, pool_size=2, max_overflow=6, pool_pre_ping=True,
                isolation_level="REPEATABLE READ")
        self._write_lock = threading.Lock() if self.is_sqlite else None
        # write transactions of this process between the end of their work and the end
        # of their after-commit hooks (committing, or applying their batch)
        self.settling = 0
        self._writer = self.engine.execution_options(tabour_write=True)
        self._reader = self.engine if self.is_sqlite else \
            self.engine.execution_options(isolation_level="REPEATABLE READ")

    @contextmanager
    def write(self) -> Connection:
        """A write transaction, committed on success and rolled back on error.

        Functions given to ``after_commit(conn, fn)`` run once the commit succeeded,
        still inside this process's writer lock (SQLite): the read model applies a
        command's batch there, so batches reach it in commit order."""
        hooks: list = []
        settling = False
        with self._write_lock or nullcontext():
            try:
                with self._writer.begin() as conn:
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


def after_commit(conn: Connection, fn) -> None:
    """Run ``fn()`` once the write transaction of ``conn`` has committed."""
    conn.info["tabour_after_commit"].append(fn)


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
