"""Byte frames for counter displays, one driver per display model (chosen by a config string).

Models:

- ``"tabour"`` (alias ``"default"``): the Tabour counter display protocol, addressable on an
  RS-485 bus. Documented in display/SERIAL_PROTOCOL.md::

      STX  ADDR(2 ASCII digits)  CMD(1 byte)  PAYLOAD(ASCII)  ETX  CHK(2 ASCII hex digits)
      0x02 "03"                  "S"          "A-042"         0x03 "09"

  CMD ``S`` shows PAYLOAD, ``C`` clears (no payload). CHK is the XOR of every byte from ADDR
  through ETX inclusive, as two upper-case hex digits. Address 00 is broadcast.

- ``"plain-line"``: one display per port, the text followed by CR LF (``b"A-042\\r\\n"``);
  clearing sends an empty line. Many cheap "serial LED text" boards take this.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

STX = 0x02
ETX = 0x03
CMD_SHOW = ord("S")
CMD_CLEAR = ord("C")
MAX_TEXT = 32
BROADCAST = 0


class CounterDisplayDriver(ABC):
    """Turns "show this text on the display of counter N" into bytes for one display model."""

    model: str = ""

    @abstractmethod
    def frame_for(self, counter_number: int, text: str) -> bytes:
        """The bytes that make the display of ``counter_number`` show ``text``."""

    @abstractmethod
    def blank(self, counter_number: int) -> bytes:
        """The bytes that make the display of ``counter_number`` show nothing."""


def ascii_text(text: str, limit: int = MAX_TEXT) -> bytes:
    """Printable ASCII only (anything else becomes '?'), cut to ``limit`` characters."""
    return bytes(c if 0x20 <= c <= 0x7E else 0x3F for c in text.encode("ascii", "replace"))[:limit]


def xor_checksum(data: bytes) -> bytes:
    value = 0
    for byte in data:
        value ^= byte
    return b"%02X" % value


class TabourDriver(CounterDisplayDriver):
    """The default protocol (see module docstring and SERIAL_PROTOCOL.md)."""

    model = "tabour"

    def frame_for(self, counter_number: int, text: str) -> bytes:
        return self._frame(counter_number, CMD_SHOW, ascii_text(text))

    def blank(self, counter_number: int) -> bytes:
        return self._frame(counter_number, CMD_CLEAR, b"")

    @staticmethod
    def _frame(counter_number: int, command: int, payload: bytes) -> bytes:
        if not 0 <= counter_number <= 99:
            raise ValueError(f"counter number {counter_number} is outside 0..99")
        body = b"%02d" % counter_number + bytes([command]) + payload + bytes([ETX])
        return bytes([STX]) + body + xor_checksum(body)


class FrameError(ValueError):
    """Bytes that are not one valid Tabour frame."""


def parse_tabour_frame(frame: bytes) -> tuple[int, str, str]:
    """(address, command letter, payload text) of one Tabour frame; checks the checksum.

    For tests and for vendors checking their firmware against ours.
    """
    if len(frame) < 7 or frame[0] != STX or frame[-3] != ETX:
        raise FrameError(f"not a frame: {frame!r}")
    body, checksum = frame[1:-2], frame[-2:]
    if xor_checksum(body) != checksum:
        raise FrameError(f"bad checksum {checksum!r}, expected {xor_checksum(body)!r}: {frame!r}")
    address = body[0:2]
    if not address.isdigit():
        raise FrameError(f"bad address {address!r}")
    return int(address), chr(body[2]), body[3:-1].decode("ascii")


class PlainLineDriver(CounterDisplayDriver):
    """Text + CR LF; the counter number is not sent (one display per port)."""

    model = "plain-line"

    def frame_for(self, counter_number: int, text: str) -> bytes:
        return ascii_text(text) + b"\r\n"

    def blank(self, counter_number: int) -> bytes:
        return b"\r\n"


DRIVERS: dict[str, type[CounterDisplayDriver]] = {
    "tabour": TabourDriver,
    "default": TabourDriver,
    "plain-line": PlainLineDriver,
}


def driver_for(model: str) -> CounterDisplayDriver:
    """The driver for a model string from config. Raises ValueError for an unknown model
    (a configuration error, to be reported at start-up)."""
    try:
        return DRIVERS[model.strip().lower()]()
    except KeyError:
        raise ValueError(
            f"unknown counter display model {model!r}; known: {', '.join(sorted(DRIVERS))}"
        ) from None
