"""One process of the call-next race: threads press call-next on their counters
until nobody waits, and print what they were given (JSON): the tickets, the
races they lost (a guarded write that matched nothing), and any error.

Bounded everywhere: a thread gives up after MAX_PRESSES, joins time out, so a
broken guard makes the test fail in seconds, never hang."""
from __future__ import annotations

import json
import random
import sys
import threading
import time

MAX_PRESSES = 5000
JOIN_S = 60.0


def press(commands, branch_id, counter, actor, got, errors, barrier):
    from queue_server.engine.errors import DomainError
    barrier.wait()
    for _ in range(MAX_PRESSES):
        try:
            t = commands.call_next(branch_id, counter, actor)
        except DomainError as exc:
            if exc.code == "counter_busy":  # the other thread of this counter holds a ticket
                time.sleep(0.001)
                continue
            errors.append(f"{counter}: {exc.code}: {exc.message}")
            return
        except Exception as exc:  # recorded, so the test fails with the reason
            errors.append(f"{counter}: {exc!r}")
            return
        if t is None:
            return
        got.append(t.id)
        try:
            commands.start(branch_id, counter, actor, t.id)
            commands.finish(branch_id, counter, actor, "served", None, t.id)
        except Exception as exc:  # e.g. the ticket was also given to another counter
            errors.append(f"{counter}: {exc!r}")
            return
        time.sleep(random.uniform(0.001, 0.005))  # an agent's moment between two calls
    errors.append(f"{counter}: gave up after {MAX_PRESSES} presses")


def run(url: str, counters: list[int], threads_per_counter: int,
        start_at: float | None = None, commands=None) -> dict:
    from queue_server.app import write_path
    from queue_server.clock import utcnow
    from queue_server.db.database import Database
    from queue_server.engine.model import Actor

    db = None
    if commands is None:
        db = Database(url)
        commands, _ = write_path(db, utcnow)
    got: list[int] = []
    errors: list[str] = []
    threads = [(c, i) for c in counters for i in range(threads_per_counter)]
    barrier = threading.Barrier(len(threads))
    workers = [threading.Thread(target=press, daemon=True,
                                args=(commands, 1, c, Actor("user", 1, f"c{c}-{i}"),
                                      got, errors, barrier))
               for c, i in threads]
    if start_at is not None:  # both processes press at the same moment
        time.sleep(max(0.0, start_at - time.time()))
    lost_before = commands.stats["stale"]
    for w in workers:
        w.start()
    deadline = time.monotonic() + JOIN_S
    for w in workers:
        w.join(max(0.1, deadline - time.monotonic()))
    if any(w.is_alive() for w in workers):
        errors.append(f"threads still running after {JOIN_S} s")
    if db is not None:
        db.dispose()
    return {"called": got, "errors": errors, "lost": commands.stats["stale"] - lost_before}


if __name__ == "__main__":
    url, counters, per = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
    start_at = float(sys.argv[4]) if len(sys.argv) > 4 else None
    print(json.dumps(run(url, counters, per, start_at)))
