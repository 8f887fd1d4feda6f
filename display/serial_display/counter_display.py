"""The LED display above one counter, on a serial port (RS-232, RS-485, USB adapter)."""

from __future__ import annotations

import logging

from .drivers import CounterDisplayDriver, driver_for
from .link import LinkState, SerialLink

log = logging.getLogger(__name__)


class SerialCounterDisplay:
    """Shows the current ticket of one counter. Never raises from show/clear/close: a pulled
    cable is logged, retried in the background, and the last frame is re-sent when it is back.

    ``model`` picks the driver (see drivers.DRIVERS). Displays sharing one RS-485 bus pass the
    same ``link``; otherwise the display owns a link to ``port`` (``link_options`` go to
    SerialLink: retry_min_s, retry_max_s, check_interval_s, refresh_s, write_timeout_s).
    Raises ValueError at construction for an unknown model or an out-of-range counter number.
    """

    def __init__(
        self,
        port: str,
        baudrate: int = 9600,
        model: str = "tabour",
        counter_number: int = 1,
        *,
        link: SerialLink | None = None,
        **link_options,
    ) -> None:
        self.driver: CounterDisplayDriver = driver_for(model)
        self.counter_number = counter_number
        self.driver.frame_for(counter_number, "")  # validates the number for this model
        self._owns_link = link is None
        self.link = link or SerialLink(
            port, baudrate, name=f"Counter {counter_number} display", **link_options
        )
        self.port = self.link.port
        self._key = ("display", counter_number)
        self.text: str | None = None  # what the display should be showing now (None: blank)

    @property
    def state(self) -> LinkState:
        return self.link.state

    def show(self, code: str) -> None:
        self._send(code, lambda: self.driver.frame_for(self.counter_number, code))

    def clear(self) -> None:
        self._send(None, lambda: self.driver.blank(self.counter_number))

    def flush(self, timeout: float = 2.0) -> bool:
        """Wait until the current frame is written (tests, shutdown). False on timeout."""
        return self.link.flush(timeout)

    def close(self) -> None:
        try:
            if self._owns_link:
                self.link.close()
            else:
                self.link.forget(self._key)
        except Exception:
            log.exception("Counter %s display on %s: error while closing", self.counter_number, self.port)

    def _send(self, text: str | None, make_frame) -> None:
        try:
            frame = make_frame()
            self.text = text
            self.link.send(self._key, frame)
        except Exception:
            log.exception("Counter %s display on %s: cannot send %r", self.counter_number, self.port, text)
