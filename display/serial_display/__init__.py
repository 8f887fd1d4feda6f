"""Serial counter displays and keypads (pyserial). Protocol: display/SERIAL_PROTOCOL.md.

    from display.serial_display import SerialCounterDisplay
    d = SerialCounterDisplay("/dev/serial/by-id/usb-FTDI...-port0", 9600, "tabour", counter_number=3)
    d.show("A-042")   # returns at once; written by the display's thread, re-sent after reconnects
"""

from .counter_display import SerialCounterDisplay
from .drivers import (
    DRIVERS,
    CounterDisplayDriver,
    FrameError,
    PlainLineDriver,
    TabourDriver,
    driver_for,
    parse_tabour_frame,
)
from .keypad import DEFAULT_KEYMAP, SerialKeypad
from .link import LinkState, SerialLink

__all__ = [
    "CounterDisplayDriver",
    "DEFAULT_KEYMAP",
    "DRIVERS",
    "FrameError",
    "LinkState",
    "PlainLineDriver",
    "SerialCounterDisplay",
    "SerialKeypad",
    "SerialLink",
    "TabourDriver",
    "driver_for",
    "parse_tabour_frame",
]
