"""Printers for tests: a raw TCP printer on 127.0.0.1 and a serial printer on a pty pair.

Both collect every byte they receive and answer the real-time status query
DLE EOT n the way a printer does: right away, wherever it appears in the
stream, with the byte configured for n. ``answers=None`` makes a printer that
takes data but never answers; a value that is not one byte (or fails the
fixed bits) is garbage, for tests of the parser.

The ESC/POS decoder lives in ``escpos_decoder`` and is re-exported here.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
import tty

from .escpos_decoder import Decoded, DecodeError, decode  # noqa: F401  (re-exported)

DLE_EOT = b"\x10\x04"

# answers to DLE EOT 1..4 (status, offline cause, error cause, paper sensor)
ONLINE = {1: b"\x12", 2: b"\x12", 3: b"\x12", 4: b"\x12"}
PAPER_NEAR_END = {**ONLINE, 4: b"\x1e"}
PAPER_OUT = {1: b"\x1a", 2: b"\x32", 3: b"\x12", 4: b"\x72"}
COVER_OPEN = {1: b"\x1a", 2: b"\x16", 3: b"\x12", 4: b"\x12"}
CUTTER_ERROR = {1: b"\x1a", 2: b"\x52", 3: b"\x1a", 4: b"\x12"}
GARBAGE = {1: b"\xff", 2: b"\xff", 3: b"\xff", 4: b"\xff"}


class StatusResponder:
    """Finds DLE EOT n in a byte stream (across chunk borders) and returns the replies."""

    def __init__(self, answers: dict[int, bytes] | None) -> None:
        self.answers = answers
        self.queries: list[int] = []
        self._tail = b""

    def feed(self, chunk: bytes) -> bytes:
        data = self._tail + chunk
        reply = bytearray()
        start = 0
        while (at := data.find(DLE_EOT, start)) != -1 and at + 2 < len(data):
            n = data[at + 2]
            self.queries.append(n)
            if self.answers is not None:
                reply += self.answers.get(n, b"")
            start = at + 3
        # keep a possible partial query for the next chunk
        tail_from = max(start, len(data) - 2)
        self._tail = data[tail_from:] if DLE_EOT[:1] in data[tail_from:] else b""
        return bytes(reply)


class _Collector:
    def __init__(self, answers: dict[int, bytes] | None) -> None:
        self.responder = StatusResponder(answers)
        self._data = bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def received(self) -> bytes:
        with self._lock:
            return bytes(self._data)

    @property
    def queries(self) -> list[int]:
        return list(self.responder.queries)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def _got(self, chunk: bytes) -> bytes:
        with self._lock:
            self._data += chunk
        return self.responder.feed(chunk)

    def wait_for(self, predicate, timeout: float = 5.0) -> bytes:
        """Wait until ``predicate(received)`` holds; returns the bytes received."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = self.received
            if predicate(data):
                return data
            time.sleep(0.01)
        raise TimeoutError(f"virtual printer: condition not met in {timeout} s, got {len(self.received)} bytes")

    def _start(self, target) -> None:
        self._thread = threading.Thread(target=target, daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class TcpVirtualPrinter(_Collector):
    """A raw-TCP (port 9100 style) printer on 127.0.0.1 and a random port."""

    def __init__(self, answers: dict[int, bytes] | None = ONLINE) -> None:
        super().__init__(answers)
        self.connections = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.05)
        self.host, self.port = self._server.getsockname()
        self._start(self._serve)

    @property
    def config(self) -> dict:
        return {"type": "network", "host": self.host, "port": self.port, "timeout": 2}

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            with conn:
                conn.settimeout(0.05)
                while not self._stop.is_set():
                    try:
                        chunk = conn.recv(65536)
                    except socket.timeout:
                        continue
                    except OSError:
                        break
                    if not chunk:
                        break
                    reply = self._got(chunk)
                    if reply:
                        conn.sendall(reply)

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(2)
        self._server.close()

    def power_off(self) -> None:
        """Switched off: nothing listens on its port (connections are refused)."""
        self.stop()

    def power_on(self) -> None:
        """Back on, on the same port."""
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self._server.settimeout(0.05)
        self._start(self._serve)


class PtySerialPrinter(_Collector):
    """A serial printer on a pseudo-terminal: open ``path`` with escpos ``Serial``."""

    def __init__(self, answers: dict[int, bytes] | None = ONLINE) -> None:
        super().__init__(answers)
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no newline translation, like a serial line
        self.path = os.ttyname(self._slave)
        self._start(self._serve)

    @property
    def config(self) -> dict:
        return {"type": "serial", "device": self.path, "baudrate": 115200, "timeout": 1}

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self._master, 65536)
            except OSError:
                break
            reply = self._got(chunk)
            if reply:
                os.write(self._master, reply)

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(2)
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass
