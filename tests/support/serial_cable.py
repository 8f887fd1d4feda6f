"""A serial line for tests: a pty pair behind a symlink, parsed back into frames."""
from __future__ import annotations

import os
import select
import time
import tty

from display.serial_display import parse_tabour_frame

STX, ETX = 0x02, 0x03


class Cable:
    """A pty pair behind a stable symlink path (like /dev/serial/by-id/...): a serial
    device a test can pull out and plug back in."""

    def __init__(self, path):
        self.path = str(path)
        self.master = self.slave = None
        self.buffer = b""
        self.plug()

    def plug(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # a serial device is raw: no echo, no line buffering
        os.symlink(os.ttyname(self.slave), self.path)
        self.buffer = b""

    def pull(self):
        os.unlink(self.path)
        os.close(self.master)
        os.close(self.slave)
        self.master = self.slave = None

    def close(self):
        if self.master is not None:
            self.pull()

    def read_some(self, timeout):
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                self.buffer += os.read(self.master, 4096)
            except OSError:
                pass

    def frames(self, count, timeout=3.0):
        """The next ``count`` Tabour frames written to the device, parsed (checksums checked)."""
        deadline = time.monotonic() + timeout
        found = []
        while True:
            while len(found) < count:
                start = self.buffer.find(bytes([STX]))
                end = self.buffer.find(bytes([ETX]), start)
                if start < 0 or end < 0 or len(self.buffer) < end + 3:
                    break
                found.append(parse_tabour_frame(self.buffer[start : end + 3]))
                self.buffer = self.buffer[end + 3 :]
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"only {found} arrived; left over {self.buffer!r}"
            self.read_some(remaining)

    def raw(self, size, timeout=3.0):
        deadline = time.monotonic() + timeout
        while len(self.buffer) < size:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"only {self.buffer!r} arrived"
            self.read_some(remaining)
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def silent_for(self, seconds):
        self.read_some(seconds)
        return self.buffer == b""


    def until_text(self, expect, timeout=5.0):
        """Read frames until one shows ``expect`` ("" for a blank); returns it."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"the display never showed {expect!r}"
            [frame] = self.frames(1, timeout=remaining)
            _address, command, text = frame
            if (text if command == "S" else "") == expect:
                return frame
