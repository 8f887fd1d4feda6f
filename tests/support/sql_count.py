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
