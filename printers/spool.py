"""A durable local queue of print jobs for the printer agent (one SQLite file).

A job is enqueued once (the same job again is a no-op; the same job_id with other
content is refused: ``enqueue`` says which), handed out in enqueue order, and ends
printed (confirmed by the printer's status, or unconfirmed when the transport
cannot tell) or failed with a reason. A failed attempt is retried
later with exponential backoff; a job still not printed after ``max_age_s`` or
``max_attempts`` is marked failed, never silently dropped. The file survives
process restarts: reopen it and pending jobs are still there, in order.

Time is passed in (``now``, seconds) or read from ``clock``, so tests need no sleeping.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS print_jobs (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id          TEXT NOT NULL UNIQUE,
    printer         TEXT NOT NULL,
    payload         BLOB NOT NULL,
    payload_kind    TEXT NOT NULL CHECK (payload_kind IN ('bytes', 'json')),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'printed', 'printed_unconfirmed', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      REAL NOT NULL,
    next_attempt_at REAL NOT NULL,
    finished_at     REAL,
    last_error      TEXT,
    content_hash    TEXT
);
CREATE INDEX IF NOT EXISTS print_jobs_due ON print_jobs (next_attempt_at, seq) WHERE status = 'pending';
"""

COLUMNS = "job_id, printer, payload, payload_kind, status, attempts, created_at, next_attempt_at, finished_at, last_error"
ADDED, SAME, DIFFERENT = "added", "same", "different"  # what enqueue() found


@dataclass(frozen=True)
class SpoolJob:
    job_id: str
    printer: str
    payload: bytes | Any  # bytes (ESC/POS) or JSON data (e.g. a TicketPrint as a dict)
    status: str
    attempts: int
    created_at: float
    next_attempt_at: float
    finished_at: float | None
    last_error: str | None


def _job(row: tuple) -> SpoolJob:
    job_id, printer, payload, kind, *rest = row
    data = bytes(payload) if kind == "bytes" else json.loads(payload)
    return SpoolJob(job_id, printer, data, *rest)


class Spool:
    def __init__(
        self,
        path: str | Path,
        *,
        max_age_s: float = 600.0,
        max_attempts: int = 20,
        backoff_base_s: float = 2.0,
        backoff_max_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_age_s = max_age_s
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.clock = clock
        self._lock = threading.RLock()  # one connection shared by the agent's threads
        self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=5)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a job acknowledged is a job on disk
        self._db.executescript(SCHEMA)
        self._upgrade()

    def _upgrade(self) -> None:
        """A spool file made by an older agent: add what this one keeps."""
        cols = {r[1] for r in self._db.execute("PRAGMA table_info(print_jobs)")}
        if "content_hash" not in cols:
            self._db.execute("ALTER TABLE print_jobs ADD COLUMN content_hash TEXT")
        sql = self._db.execute("SELECT sql FROM sqlite_master WHERE name = 'print_jobs'").fetchone()[0]
        if "printed_unconfirmed" not in sql:  # widen the status check (SQLite: rebuild the table)
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("ALTER TABLE print_jobs RENAME TO print_jobs_old")
                self._db.execute("DROP INDEX IF EXISTS print_jobs_due")
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"INSERT INTO print_jobs ({COLUMNS}, content_hash) "
                                 f"SELECT {COLUMNS}, content_hash FROM print_jobs_old")
                self._db.execute("DROP TABLE print_jobs_old")
                self._db.execute("COMMIT")

    # -- lifecycle -----------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "Spool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _now(self, now: float | None) -> float:
        return self.clock() if now is None else now

    def _execute(self, sql: str, params: tuple = ()) -> int:
        """Run a write; returns the number of rows changed."""
        with self._lock:
            return self._db.execute(sql, params).rowcount

    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- writing -------------------------------------------------------------
    def enqueue(self, job_id: str, printer: str, payload: bytes | Any, *, now: float | None = None) -> str:
        """Add a job. Returns ADDED, SAME (this very job was already there: left as it
        is) or DIFFERENT (``job_id`` is taken by other content: nothing changed; the
        caller must refuse the job, never print one for the other)."""
        if isinstance(payload, (bytes, bytearray, memoryview)):
            blob, kind = bytes(payload), "bytes"
        else:
            blob, kind = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode(), "json"
        digest = hashlib.sha256(printer.encode() + b"\0" + blob).hexdigest()
        at = self._now(now)
        with self._lock:
            added = self._execute(
                "INSERT INTO print_jobs (job_id, printer, payload, payload_kind, status, created_at,"
                " next_attempt_at, content_hash) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)"
                " ON CONFLICT (job_id) DO NOTHING",
                (job_id, printer, blob, kind, at, at, digest),
            )
            if added == 1:
                return ADDED
            row = self._rows("SELECT content_hash, printer, payload FROM print_jobs WHERE job_id = ?",
                             (job_id,))[0]
            known = row[0] or hashlib.sha256(row[1].encode() + b"\0" + bytes(row[2])).hexdigest()
            return SAME if known == digest else DIFFERENT

    def mark_printed(self, job_id: str, *, now: float | None = None, confirmed: bool = True) -> None:
        """Printed: ``confirmed`` when the printer's status after it said nothing wrong;
        unconfirmed when the transport cannot report a status (a file, some printers)."""
        self._finish(job_id, "printed" if confirmed else "printed_unconfirmed", None, now)

    def mark_failed(self, job_id: str, reason: str, *, now: float | None = None) -> None:
        """Give up on a job (a reason a person can read: it is shown as the printer's alert)."""
        self._finish(job_id, "failed", reason, now)

    def _finish(self, job_id: str, status: str, reason: str | None, now: float | None) -> None:
        changed = self._execute(
            "UPDATE print_jobs SET status = ?, finished_at = ?, last_error = COALESCE(?, last_error),"
            " attempts = attempts + 1 WHERE job_id = ? AND status = 'pending'",
            (status, self._now(now), reason, job_id),
        )
        if changed != 1:
            raise KeyError(f"no pending print job {job_id!r}")

    def backoff_s(self, attempts: int) -> float:
        """Delay after the ``attempts``-th failed attempt: base, 2 x base, 4 x base... up to the max."""
        return min(self.backoff_max_s, self.backoff_base_s * 2 ** max(0, attempts - 1))

    def retry_later(self, job_id: str, reason: str, *, now: float | None = None) -> SpoolJob:
        """Record a failed attempt: the job waits its backoff, or fails after ``max_attempts``."""
        at = self._now(now)
        with self._lock:
            job = self.get(job_id)
            if job is None or job.status != "pending":
                raise KeyError(f"no pending print job {job_id!r}")
            attempts = job.attempts + 1
            if attempts >= self.max_attempts:
                self._execute(
                    "UPDATE print_jobs SET status = 'failed', attempts = ?, finished_at = ?, last_error = ?"
                    " WHERE job_id = ?",
                    (attempts, at, f"{reason} (gave up after {attempts} attempts)", job_id),
                )
            else:
                self._execute(
                    "UPDATE print_jobs SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE job_id = ?",
                    (attempts, at + self.backoff_s(attempts), reason, job_id),
                )
            return self.get(job_id)

    def expire(self, *, now: float | None = None) -> list[str]:
        """Mark failed the pending jobs older than ``max_age_s``; returns their ids."""
        at = self._now(now)
        cutoff = at - self.max_age_s
        rows = self._rows(
            "UPDATE print_jobs SET status = 'failed', finished_at = ?,"
            " last_error = COALESCE(last_error || '; ', '') || ?"
            " WHERE status = 'pending' AND created_at < ? RETURNING job_id",
            (at, f"not printed within {self.max_age_s:g} s", cutoff),
        )
        return [row[0] for row in rows]

    # -- reading -------------------------------------------------------------
    def get(self, job_id: str) -> SpoolJob | None:
        rows = self._rows(f"SELECT {COLUMNS} FROM print_jobs WHERE job_id = ?", (job_id,))
        return _job(rows[0]) if rows else None

    def pending(self, printer: str | None = None) -> list[SpoolJob]:
        """Every pending job (waiting for backoff or not), in enqueue order."""
        sql = f"SELECT {COLUMNS} FROM print_jobs WHERE status = 'pending'"
        params: tuple = ()
        if printer is not None:
            sql, params = sql + " AND printer = ?", (printer,)
        return [_job(r) for r in self._rows(sql + " ORDER BY seq", params)]

    def due(self, printer: str | None = None, *, now: float | None = None, limit: int = 100) -> list[SpoolJob]:
        """Pending jobs whose time has come, in enqueue order (expired ones are failed first)."""
        at = self._now(now)
        self.expire(now=at)
        sql = f"SELECT {COLUMNS} FROM print_jobs WHERE status = 'pending' AND next_attempt_at <= ?"
        params: tuple = (at,)
        if printer is not None:
            sql, params = sql + " AND printer = ?", (at, printer)
        rows = self._rows(sql + " ORDER BY seq LIMIT ?", (*params, limit))
        return [_job(r) for r in rows]

    def failed(self, printer: str | None = None) -> list[SpoolJob]:
        sql = f"SELECT {COLUMNS} FROM print_jobs WHERE status = 'failed'"
        params: tuple = ()
        if printer is not None:
            sql, params = sql + " AND printer = ?", (printer,)
        return [_job(r) for r in self._rows(sql + " ORDER BY seq", params)]
