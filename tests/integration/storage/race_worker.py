"""One process of the call-next race: threads press call-next on their counters
until nobody waits, and print the ids of the tickets they were given (JSON)."""
from __future__ import annotations

import json
import random
import sys
import threading
import time


def press(commands, branch_id, counter, actor, got, errors, barrier):
    from queue_server.engine.errors import InvalidTransition
    barrier.wait()
    while True:
        try:
            t = commands.call_next(branch_id, counter, actor)
        except InvalidTransition:
            time.sleep(0.001)  # the other thread of this counter holds a ticket
            continue
        except Exception as exc:  # recorded, so the test fails with the reason
            errors.append(repr(exc))
            return
        if t is None:
            return
        got.append(t.id)
        commands.start(branch_id, counter, actor, t.id)
        commands.finish(branch_id, counter, actor, "served", None, t.id)
        time.sleep(random.uniform(0.001, 0.005))  # an agent's moment between two calls


def run(url: str, counters: list[int], threads_per_counter: int,
        start_at: float | None = None) -> dict:
    from queue_server.clock import utcnow
    from queue_server.commands import Commands
    from queue_server.db.database import Database
    from queue_server.engine.model import Actor

    db = Database(url)
    commands = Commands(db, utcnow, lambda *_: None)
    got: list[int] = []
    errors: list[str] = []
    threads = [(c, i) for c in counters for i in range(threads_per_counter)]
    barrier = threading.Barrier(len(threads))
    workers = [threading.Thread(target=press, args=(commands, 1, c, Actor("user", 1, f"c{c}-{i}"),
                                                    got, errors, barrier))
               for c, i in threads]
    if start_at is not None:  # both processes press at the same moment
        time.sleep(max(0.0, start_at - time.time()))
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    db.dispose()
    return {"called": got, "errors": errors}


if __name__ == "__main__":
    url, counters, per = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
    start_at = float(sys.argv[4]) if len(sys.argv) > 4 else None
    print(json.dumps(run(url, counters, per, start_at)))
