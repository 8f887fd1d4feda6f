"""Count the SQL statements a piece of code runs (an SQLAlchemy event listener)."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def counting(engine):
    """``with counting(engine) as seen:`` -> ``seen`` lists the statements run inside."""
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.split()[0].upper() + " " + " ".join(statement.split()[1:6]))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


@contextmanager
def compiled_each_time(engine):
    """``with compiled_each_time(engine) as seen:`` -> ``seen`` lists the statements run
    inside that SQLAlchemy cannot cache (no cache key: compiled again at every
    execution, as a multi-row VALUES is). Savepoints, a string each, are left out."""
    from sqlalchemy.engine.interfaces import CacheStats
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if context is not None and context.compiled is not None \
                and context.cache_hit is CacheStats.NO_CACHE_KEY \
                and not statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            seen.append(" ".join(statement.split()[:8]))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)
