"""Fresh databases for tests: a SQLite file, or a PostgreSQL database made from a
migrated template on the local server."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

import psycopg
import pytest

PG_ADMIN = os.environ.get("TABOUR_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def pg_url(dbname: str) -> str:
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{dbname}"


def _admin():
    return psycopg.connect(PG_ADMIN, autocommit=True)


def pg_available() -> bool:
    try:
        with _admin():
            return True
    except Exception:
        return False


class PostgresDatabases:
    """Creates databases from one migrated template and drops them afterwards."""

    def __init__(self):
        self.template = f"tabour_tmpl_{os.getpid()}"
        self.created: list[str] = []
        with _admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.template}"')
            conn.execute(f'CREATE DATABASE "{self.template}"')
        from sqlalchemy import create_engine
        from queue_server.db.migrate import upgrade
        engine = create_engine(pg_url(self.template))
        upgrade(engine)
        engine.dispose()

    def new(self) -> str:
        name = f"tabour_t_{uuid.uuid4().hex[:10]}"
        with _admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        return pg_url(name)

    def close(self) -> None:
        """Drops them in a detached process. On PostgreSQL 15 every DROP DATABASE waits
        for a checkpoint (2-3 s each on this disk after the suite's writes): a few hundred
        of them held the end of the run for minutes. The names are unique to this run,
        so nothing waits on them."""
        names = self.created + [self.template]
        subprocess.Popen([sys.executable, "-c", _DROPPER, PG_ADMIN, *names],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)


_DROPPER = """
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    for name in sys.argv[2:]:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
"""


def require_pg():
    if not pg_available():
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN}: `make test` starts it "
                    "(scripts/services.sh)")
