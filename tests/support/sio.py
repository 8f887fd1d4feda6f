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


class LiveClient:
    """A real Socket.IO client (python-socketio over a websocket) on a real server
    process: keeps every event by name and says when the server cut it."""

    NAMES = ("snapshot", "ticket_called", "queue_changed", "announcement", "ticket_issued",
             "counter_queue")

    def __init__(self, url: str, token: str, **auth):
        import queue
        import threading

        import socketio
        self.events: dict[str, "queue.Queue"] = {n: queue.Queue() for n in self.NAMES}
        self.cut = threading.Event()
        self.client = socketio.Client(reconnection=False)
        for name, q in self.events.items():
            self.client.on(name, q.put)
        self.client.on("disconnect", lambda *_a: self.cut.set())
        self.client.connect(url, auth={"token": token, **auth}, transports=["websocket"],
                            wait_timeout=10)
        self.get("snapshot")

    def get(self, name: str, predicate=lambda p: True, timeout: float = 8.0) -> dict:
        import queue
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching {name!r} within {timeout}s")
            try:
                payload = self.events[name].get(timeout=left)
            except queue.Empty:
                continue
            if predicate(payload):
                return payload

    def cut_within(self, seconds: float) -> bool:
        return self.cut.wait(seconds)

    @property
    def connected(self) -> bool:
        return self.client.connected

    def close(self) -> None:
        try:
            self.client.disconnect()
        except Exception:
            pass
