"""What a Flask-SocketIO test client received, kept: waiting for one event never
throws away another that arrived with it (a ``queue_changed`` that came in the
same read as the ``ticket_called`` a test waited for is still there for the next
wait)."""
from __future__ import annotations

import time


class Inbox:
    def __init__(self, client):
        self.client = client
        self.packets: list[dict] = []
        self.used: set[int] = set()

    def _pull(self) -> None:
        self.packets += self.client.get_received()

    def names(self) -> list[str]:
        self._pull()
        return [p["name"] for p in self.packets]

    def wait(self, name: str, count: int = 1, timeout: float = 2.0,
             predicate=lambda payload: True) -> list[dict]:
        """The first ``count`` not-yet-taken payloads of ``name`` that match; they are
        taken (the next wait does not return them again)."""
        deadline = time.monotonic() + timeout
        while True:
            self._pull()
            hits = [i for i, p in enumerate(self.packets)
                    if i not in self.used and p["name"] == name and predicate(p["args"][0])]
            if len(hits) >= count:
                self.used.update(hits[:count])
                return [self.packets[i]["args"][0] for i in hits[:count]]
            if time.monotonic() >= deadline:
                raise AssertionError(f"{count} x {name!r} not received within {timeout}s; "
                                     f"got {[p['name'] for p in self.packets]}")
            time.sleep(0.01)


def inbox(client) -> Inbox:
    box = getattr(client, "_tabour_inbox", None)
    if box is None:
        box = client._tabour_inbox = Inbox(client)
    return box
