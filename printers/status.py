"""Ask a printer how it is: ESC/POS real-time status (DLE EOT n).

Each query is answered with one status byte whose fixed bits are bit 1 and
bit 4 set, bit 0 and bit 7 clear (0x12 under the mask 0x93):

- n=1 printer status:    bit 3 offline
- n=2 offline cause:     bit 2 cover open, bit 5 stopped by paper end, bit 6 error
- n=3 error cause:       bit 3 autocutter error, bit 5 unrecoverable, bit 6 auto-recoverable
- n=4 paper roll sensor: bits 2-3 paper near its end, bits 5-6 paper end

We ask n=1 and n=4, and n=2 and n=3 only when the printer says it is offline.
python-escpos gives the query bytes (``RT_STATUS_*``) and masks (``RT_MASK_*``),
but its ``query_status`` reads 16 bytes (on serial, that waits the whole
timeout) and ``paper_status`` calls "no answer" plenty of paper, so reading and
parsing are done here. A printer that answers nothing is offline; one that
answers bytes that fail the fixed-bit check is unknown (and logged).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

from escpos.constants import (
    RT_MASK_LOWPAPER,
    RT_MASK_NOPAPER,
    RT_MASK_ONLINE,
    RT_MASK_PAPER,
    RT_STATUS,
    RT_STATUS_ONLINE,
    RT_STATUS_PAPER,
)

from .errors import PrinterError, PrinterUnreachable
from .transports import file as file_transport
from .transports import network, serial, transport_for

log = logging.getLogger(__name__)

RT_STATUS_OFFLINE_CAUSE = RT_STATUS + b"\x02"
RT_STATUS_ERROR_CAUSE = RT_STATUS + b"\x03"

FIXED_BITS_MASK = 0b1001_0011  # bits 0, 1, 4, 7
FIXED_BITS = RT_MASK_PAPER  # 0x12: bits 1 and 4 set, bits 0 and 7 clear
PAPER_NEAR_END_BITS = RT_MASK_LOWPAPER & ~RT_MASK_PAPER  # 0x0C
PAPER_END_BITS = RT_MASK_NOPAPER & ~RT_MASK_PAPER  # 0x60
COVER_OPEN_BIT = 0x04  # n=2
PAPER_END_STOP_BIT = 0x20  # n=2
ERROR_BIT = 0x40  # n=2
AUTOCUTTER_ERROR_BIT = 0x08  # n=3
UNRECOVERABLE_BIT = 0x20  # n=3
AUTO_RECOVERABLE_BIT = 0x40  # n=3

STATES = ("online", "offline", "paper_out", "paper_near_end", "cover_open", "error", "unknown")
DEFAULT_TIMEOUT = 1.0


@dataclass(frozen=True)
class PrinterStatus:
    state: str
    detail: str = ""
    answers: dict[int, bytes] = field(default_factory=dict)  # n -> raw answer, for logs


class GarbageAnswer(ValueError):
    pass


def check_byte(n: int, answer: bytes) -> int:
    """The status byte of an answer to DLE EOT n, or GarbageAnswer."""
    if len(answer) != 1:
        raise GarbageAnswer(f"DLE EOT {n} answered {len(answer)} bytes {answer!r}, expected 1")
    value = answer[0]
    if value & FIXED_BITS_MASK != FIXED_BITS:
        raise GarbageAnswer(f"DLE EOT {n} answered {value:#04x}, which fails the fixed-bit check")
    return value


def parse(answers: dict[int, bytes]) -> PrinterStatus:
    """The state from the answers to DLE EOT 1..4 (b"" or a missing key: no answer)."""
    if not answers.get(1):
        return PrinterStatus("offline", "no answer to the status query", dict(answers))
    try:
        values = {n: check_byte(n, raw) for n, raw in answers.items() if raw}
    except GarbageAnswer as exc:
        log.warning("printer status unknown: %s", exc)
        return PrinterStatus("unknown", str(exc), dict(answers))
    online = not values[1] & RT_MASK_ONLINE
    paper = values.get(4, FIXED_BITS)
    offline_cause = values.get(2, FIXED_BITS)
    error_cause = values.get(3, FIXED_BITS)

    def status(state: str, detail: str) -> PrinterStatus:
        return PrinterStatus(state, detail, dict(answers))

    if paper & PAPER_END_BITS or offline_cause & PAPER_END_STOP_BIT:
        return status("paper_out", "paper roll end")
    if offline_cause & COVER_OPEN_BIT:
        return status("cover_open", "cover open")
    if offline_cause & ERROR_BIT or error_cause & (AUTOCUTTER_ERROR_BIT | UNRECOVERABLE_BIT | AUTO_RECOVERABLE_BIT):
        causes = [name for bit, name in ((AUTOCUTTER_ERROR_BIT, "autocutter"), (UNRECOVERABLE_BIT, "unrecoverable"),
                                         (AUTO_RECOVERABLE_BIT, "auto-recoverable")) if error_cause & bit]
        return status("error", "error: " + (", ".join(causes) or "unspecified"))
    if not online:
        return status("offline", "printer reports offline")
    if paper & PAPER_NEAR_END_BITS:
        return status("paper_near_end", "paper roll near its end")
    return status("online", "")


def _ask(transport, device, query: bytes, timeout: float) -> bytes:
    transport.drain(device)
    device._raw(query)
    return transport.read_byte(device, timeout)


def read_status(transport, device, timeout: float = DEFAULT_TIMEOUT) -> PrinterStatus:
    """Query an opened device (network or serial). Total time stays within ~2 x ``timeout``."""
    deadline = time.monotonic() + 2 * timeout
    answers = {1: _ask(transport, device, RT_STATUS_ONLINE, timeout)}
    if answers[1]:
        answers[4] = _ask(transport, device, RT_STATUS_PAPER, max(0.05, deadline - time.monotonic()))
        if len(answers[1]) == 1 and answers[1][0] & RT_MASK_ONLINE:
            for n, query in ((2, RT_STATUS_OFFLINE_CAUSE), (3, RT_STATUS_ERROR_CAUSE)):
                answers[n] = _ask(transport, device, query, max(0.05, deadline - time.monotonic()))
    return parse(answers)


def query_status(config: dict, *, name: str = "printer", timeout: float = DEFAULT_TIMEOUT) -> PrinterStatus:
    """Open the printer of ``config``, ask its status, close it. Never raises for a printer fault."""
    transport = transport_for(config)
    if transport is file_transport:
        directory = file_transport.where(config)
        writable = os.access(directory, os.W_OK) or not os.path.exists(directory)
        return PrinterStatus("online" if writable else "error", "" if writable else f"{directory} is not writable")
    if transport not in (network, serial):
        return PrinterStatus("unknown", f"status queries are not supported over {config.get('type')}")
    config = {**config, "timeout": timeout}
    try:
        device = transport.open(config, name=name)
    except PrinterUnreachable as exc:
        return PrinterStatus("offline", str(exc))
    try:
        return read_status(transport, device, timeout)
    except (PrinterError, OSError) as exc:
        return PrinterStatus("offline", f"Printer '{name}' failed during the status query ({exc})")
    finally:
        device.close()
