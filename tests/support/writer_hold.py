"""Hold a branch's write queue (commands/writer.py) from a test: a command that waits
in a thread until released, so that the commands sent meanwhile queue behind it."""
from __future__ import annotations

import threading


def hold_the_branch(t, branch_id: int = 1):
    """Run a command of the branch that waits (alone, not groupable) until released.
    Returns (release, thread): ``release.set()`` lets it finish."""
    inside, go = threading.Event(), threading.Event()

    def fn(uow, p):
        inside.set()
        assert go.wait(20)

    th = threading.Thread(target=t.commands.writer.run, args=(branch_id, fn), daemon=True)
    th.start()
    assert inside.wait(20)
    return go, th
