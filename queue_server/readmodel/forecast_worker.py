"""Wait forecasts made in a helper process.

A forecast simulates the branch forward (engine/forecast.py): a few milliseconds
with a short queue, tens with a deep one. Under gevent, CPU work in the server's
process holds up every request and every emit for that long, so the server sends
the forecast's input to this process and reads the answer back over pipes (both
cooperative: only the greenlet that waits, waits).

The input travels compact (the waiting tickets as tuples of what the ordering and
the simulation use), pickled (this process and the server are the same code:
nothing from outside is unpickled); the answer comes back as the Forecast object,
pickled, and with several processes (``wire=True``) also as its JSON
(``Forecast.to_wire``), encoded here off the server's loop: the server publishes
those very bytes to the others (estimates.py), who read the same forecast. (Reading
the JSON back costs ~0.6 ms for a deep queue's forecast, unpickling ~0.07 ms: the
server unpickles its own.)
"""
from __future__ import annotations

import json
import os
import pickle
import struct
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from ..engine.forecast import CounterView, Forecast, ForecastInput, forecast
from ..engine.model import PriorityClass, Ticket, TicketStatus

_LEN = struct.Struct("!I")
PRIORITIES = {p.value: p for p in PriorityClass}


def pack(inp: ForecastInput) -> bytes:
    """Runs on the server's loop, every forecast of a branch (a few a second when it is
    busy): the times go as POSIX seconds, not datetimes, whose pickling was ~3/4 of
    the cost (2,000 waiting: 7.9 ms a pack against 3.5, measured 2026-11-30); a float
    keeps a time of this century to the microsecond, which ``unpack`` rounds back to."""
    waiting = tuple((t.id, t.service_id, t.priority.value, t.day, _seconds(t.issued_at),
                     _seconds(t.queued_at), t.front, t.target_counter_id)
                    for t in inp.waiting)
    return pickle.dumps(replace(inp, waiting=waiting), protocol=pickle.HIGHEST_PROTOCOL)


def unpack(raw: bytes) -> ForecastInput:
    inp = pickle.loads(raw)
    waiting = tuple(Ticket(id=i, service_id=s, number=0, code="", day=d,
                           status=TicketStatus.WAITING, priority=PRIORITIES[p], channel="",
                           language="", issued_at=_time(iss), queued_at=_time(q), front=f,
                           target_counter_id=tc)
                    for i, s, p, d, iss, q, f, tc in inp.waiting)
    return replace(inp, waiting=waiting)


def _seconds(at: datetime | None):
    """An aware time (as stored: UTC) as POSIX seconds; anything else as it is."""
    return at.timestamp() if at is not None and at.tzinfo is not None else at


def _time(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc) if isinstance(seconds, float) \
        else seconds


def _send(stream, raw: bytes) -> None:
    stream.write(_LEN.pack(len(raw)) + raw)
    stream.flush()


def _read(stream) -> bytes | None:
    head = stream.read(_LEN.size)
    if len(head) < _LEN.size:
        return None
    n = _LEN.unpack(head)[0]
    data = stream.read(n)
    return data if len(data) == n else None


class ForecastProcess:
    """The server's side: one long-lived helper, one forecast at a time."""

    def __init__(self, wire: bool = False):
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self.wire = wire  # also the JSON form, for the other processes

    def start(self) -> "ForecastProcess":
        root = Path(__file__).resolve().parents[2]
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "queue_server.readmodel.forecast_worker",
             *(["--wire"] if self.wire else [])], cwd=root,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(root)})
        return self

    def __call__(self, inp: ForecastInput) -> Forecast:
        raw = pack(inp)
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self.start()  # it died: a new one (the forecast is only late)
            _send(self._proc.stdin, raw)
            answer = _read(self._proc.stdout)
        if answer is None:
            raise RuntimeError("the forecast helper process stopped")
        result, wire = pickle.loads(answer)
        if isinstance(result, str):
            raise RuntimeError(result)
        if wire is not None:
            result.wire = wire  # what estimates.py publishes, as it is
        return result

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.stdin.close()
            self._proc.wait(5)


def main(argv=None) -> int:
    # the forecast never takes the CPU from the server: at nice 5 a deep queue's
    # simulations (tens of ms, back to back in a rush) still took a quarter of a core
    # from it and from the screens' clients (the displays bench's p99: 10.4 against
    # 15.0 ms, medians of five alternated pairs); a forecast late by a moment is
    # corrected for the people ahead when read (estimates.py)
    os.nice(19)
    wire = "--wire" in (sys.argv[1:] if argv is None else argv)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        raw = _read(stdin)
        if raw is None:
            return 0
        try:
            fc = forecast(unpack(raw))
            out = (fc, json.dumps(fc.to_wire(), separators=(",", ":")).encode()
                   if wire else None)
        except Exception as exc:  # answered, so the server goes on
            out = (f"{exc.__class__.__name__}: {exc}", None)
        _send(stdout, pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    sys.exit(main())
