"""A serial keypad at a counter: one ASCII byte per key press (see SERIAL_PROTOCOL.md)."""

from __future__ import annotations

import logging
from typing import Callable

from .link import LinkState, SerialLink

log = logging.getLogger(__name__)

DEFAULT_KEYMAP: dict[str, str] = {
    "N": "next",
    "R": "recall",
    "M": "no_show",  # "missed"
    "S": "start",
    "F": "finish",
    "P": "pause",
}
_IGNORED = set(b"\r\n\t ")


class SerialKeypad:
    """Reads key bytes and calls ``on_key(name)`` (e.g. ``on_key("next")``) from the link's
    thread: keep the callback short (hand the action to the server). Bytes are matched case-
    insensitively; unknown bytes are logged at debug level and ignored. Survives a pulled cable
    like SerialCounterDisplay. A keypad and a display on the same wire share one ``link``.
    """

    def __init__(
        self,
        port: str,
        on_key: Callable[[str], None],
        baudrate: int = 9600,
        *,
        keymap: dict[str, str] | None = None,
        name: str = "Keypad",
        link: SerialLink | None = None,
        **link_options,
    ) -> None:
        self.on_key = on_key
        self.keymap = {ord(k.upper()): v for k, v in (keymap or DEFAULT_KEYMAP).items()}
        self._owns_link = link is None
        self.link = link or SerialLink(port, baudrate, name=name, **link_options)
        self.link.add_receiver(self._receive)

    @property
    def state(self) -> LinkState:
        return self.link.state

    def close(self) -> None:
        self.link.remove_receiver(self._receive)
        if self._owns_link:
            self.link.close()

    def _receive(self, data: bytes) -> None:
        for byte in data:
            if byte in _IGNORED:
                continue
            key = self.keymap.get(ord(chr(byte).upper()) if byte < 128 else byte)
            if key is None:
                log.debug("%s on %s: ignored byte %r", self.link.name, self.link.port, bytes([byte]))
                continue
            try:
                self.on_key(key)
            except Exception:
                log.exception("%s on %s: on_key(%r) failed", self.link.name, self.link.port, key)
