"""Bring a database to the newest schema with Alembic (run at every start)."""
from __future__ import annotations

import fcntl
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


MIGRATION_LOCK_KEY = 7_140_221  # any constant: the advisory lock every process takes


@contextmanager
def upgrade_locked(db):
    """Bring the schema up to date under a lock held across processes, and keep it
    for the caller's seeding: several server processes started at once migrate and
    seed one after the other (the later ones find nothing to do).

    PostgreSQL: a session advisory lock. SQLite: a lock file beside the database."""
    if db.is_sqlite:
        path = db.url.split("///", 1)[1] if "///" in db.url else ""
        if not path or path == ":memory:":
            upgrade(db.engine)
            yield
            return
        lock_path = Path(path + ".migrate.lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                upgrade(db.engine)
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
        return
    with db.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        conn.commit()
        try:
            upgrade(db.engine)
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
            conn.commit()
