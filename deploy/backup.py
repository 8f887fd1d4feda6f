"""Back up and restore a branch's database: `run.py backup` and `run.py restore`.

SQLite (one branch PC): SQLite's online backup API copies a consistent snapshot
while the server keeps running (in WAL mode it does not even hold writers up).
PostgreSQL: `pg_dump -Fc` (consistent: one snapshot) and `pg_restore --clean`.

A restore brings the database back to the moment of the backup: everything after
it is lost (tickets, calls, dossiers, accounts made since). Numbering continues from
the backup, so on the same day numbers issued after the backup are issued again.
"""
from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
PATTERN = "tabour-*"


class BackupError(Exception):
    pass


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[1] if "///" in url else ""
    if not path or path == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(path)


def _libpq(url: str) -> tuple[str, dict]:
    """The URL pg_dump and pg_restore understand, and the password kept out of the
    command line (where `ps` would show it)."""
    from sqlalchemy.engine import make_url
    u = make_url(url)
    env = {}
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    plain = u.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def pg_tool(name: str) -> str:
    """pg_dump / pg_restore: TABOUR_PG_BIN, else the newest under /usr/lib/postgresql
    (Debian keeps one folder per major version), else the PATH."""
    if os.environ.get("TABOUR_PG_BIN"):
        return str(Path(os.environ["TABOUR_PG_BIN"]) / name)
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise BackupError(f"{name} is not installed: `apt-get install postgresql-client`")


def _target(to: Path, suffix: str) -> Path:
    to = Path(to)
    if to.is_dir() or str(to).endswith(os.sep):
        to.mkdir(parents=True, exist_ok=True)
        now = datetime.now(timezone.utc)
        stamp = now.strftime("%Y%m%dT%H%M%S") + f".{now.microsecond // 1000:03d}Z"
        path, n = to / f"tabour-{stamp}{suffix}", 1
        while path.exists():  # two backups in one millisecond
            n += 1
            path = to / f"tabour-{stamp}-{n}{suffix}"
        return path
    to.parent.mkdir(parents=True, exist_ok=True)
    return to


def _prune(folder: Path, keep: int) -> list[Path]:
    """Keep the newest `keep` backups made by this tool in folder; return the removed."""
    made = sorted((p for p in folder.glob(PATTERN) if p.suffix in (".sqlite", ".dump")),
                  key=lambda p: (p.stat().st_mtime_ns, p.name))
    gone = made[:-keep] if keep > 0 else []
    for p in gone:
        p.unlink()
    return gone


def backup(database_url: str, to: Path, keep: int | None = None) -> Path:
    """Write a backup of the database to `to` (a file, or a folder for a timestamped
    file inside); returns the file. Safe while the server runs."""
    src = _sqlite_path(database_url)
    final = _target(to, ".sqlite" if src else ".dump")
    tmp = final.with_name(final.name + ".partial")
    try:
        if src is not None:
            if not src.exists():
                raise BackupError(f"there is no database at {src}")
            with sqlite3.connect(src, timeout=30) as s, sqlite3.connect(tmp) as d:
                s.backup(d)  # one step: one consistent snapshot
                d.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            s.close()
            d.close()
            _check_sqlite(tmp)
        else:
            url, env = _libpq(database_url)
            done = subprocess.run([pg_tool("pg_dump"), "-Fc", "-f", str(tmp), "-d", url],
                                  env={**os.environ, **env}, capture_output=True, text=True)
            if done.returncode != 0:
                raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    if keep and Path(to).is_dir():
        _prune(Path(to), keep)
    return final


def _check_sqlite(path: Path) -> None:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        ok = conn.execute("PRAGMA quick_check").fetchone()[0]
        has = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = "
                           "'alembic_version'").fetchone()[0]
    conn.close()
    if ok != "ok":
        raise BackupError(f"{path} is damaged: {ok}")
    if not has:
        raise BackupError(f"{path} is not a Tabour database (no alembic_version table)")


def kind_of(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is neither a SQLite backup nor a pg_dump -Fc file")


def describe(database_url: str) -> str:
    src = _sqlite_path(database_url)
    if src is not None:
        return f"SQLite {src}"
    from sqlalchemy.engine import make_url
    return f"PostgreSQL {make_url(database_url).render_as_string(hide_password=True)}"


def restore(database_url: str, source: Path) -> Path | None:
    """Replace the database's content with the backup. The server must be stopped.
    With SQLite the replaced database is kept beside it first; returns that copy."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"there is no backup at {source}")
    kind = kind_of(source)
    target = _sqlite_path(database_url)
    if (kind == "sqlite") != (target is not None):
        raise BackupError(f"{source} is a {kind} backup but the database is "
                          f"{describe(database_url)}: restore it into the same kind")
    if target is not None:
        _check_sqlite(source)
        kept = None
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            kept = target.with_name(f"{target.stem}.before-restore-{stamp}{target.suffix}")
            with sqlite3.connect(target, timeout=30) as s, sqlite3.connect(kept) as d:
                s.backup(d)
            s.close()
            d.close()
        with sqlite3.connect(source) as s, sqlite3.connect(target, timeout=30) as d:
            s.backup(d)  # page by page under SQLite's own lock, WAL included
        s.close()
        d.close()
        return kept
    url, env = _libpq(database_url)
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run([pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                               "--single-transaction", "--exit-on-error", "-d", url,
                               str(source)], env={**os.environ, **env}, cwd=tmp,
                              capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed (nothing was changed): {done.stderr.strip()}")
    return None
