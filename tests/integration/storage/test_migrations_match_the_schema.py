"""The migrations build exactly the schema the code declares (queue_server/db/
schema.py), on SQLite and PostgreSQL: a table, a column, an index or a constraint
added to one and not the other fails here."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from queue_server.db.migrate import upgrade
from queue_server.db.schema import metadata


def test_migrations_produce_the_declared_schema(db_url):
    engine = create_engine(db_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={
                "compare_type": True, "compare_server_default": False})
            diff = compare_metadata(ctx, metadata)
    finally:
        engine.dispose()
    assert diff == [], "\n".join(map(str, diff))
