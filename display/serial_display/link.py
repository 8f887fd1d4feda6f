"""One serial port, owned by one background thread that survives the cable being pulled.

Callers hand it the *latest* frame for a key (e.g. a counter number) and return at once; the
thread opens the port lazily, writes, and when the device vanishes (write/read error, or the
device path gone or now pointing at another device) it closes the port, logs once, retries
opening with backoff and, once the port is back, re-sends the last frame of every key. It also
re-sends every frame every ``refresh_s`` seconds so a display that was power-cycled (no error
on our side) catches up. Several displays on one RS-485 bus share one link (one key each).

Bytes read from the port go to the receivers (e.g. a keypad) from the same thread.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from enum import Enum
from typing import Callable, Hashable

import serial

log = logging.getLogger(__name__)

Receiver = Callable[[bytes], None]


class LinkState(str, Enum):
    IDLE = "idle"  # nothing sent yet, port not opened (it is opened lazily)
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"  # retrying in the background
    CLOSED = "closed"


class SerialLink:
    def __init__(
        self,
        port: str,
        baudrate: int = 9600,
        *,
        name: str | None = None,
        retry_min_s: float = 0.25,
        retry_max_s: float = 2.0,
        check_interval_s: float = 0.25,
        refresh_s: float | None = 30.0,
        write_timeout_s: float = 1.0,
    ) -> None:
        self.port = port
        self.baudrate = baudrate
        self.name = name or "Serial device"
        self.retry_min_s = retry_min_s
        self.retry_max_s = retry_max_s
        self.check_interval_s = check_interval_s
        self.refresh_s = refresh_s
        self.write_timeout_s = write_timeout_s

        self._cond = threading.Condition()
        self._frames: dict[Hashable, bytes] = {}  # latest frame per key, replayed on reconnect
        self._pending: dict[Hashable, None] = {}  # keys whose frame is not yet written (ordered)
        self._receivers: list[Receiver] = []
        self._writing = False
        self._closing = False
        self._state = LinkState.IDLE
        self._thread: threading.Thread | None = None
        self._ser: serial.SerialBase | None = None
        self._rdev: int | None = None
        self._down_since: float | None = None
        self._last_refresh = 0.0
        self._delay = 0.0  # before the next open attempt; the first one is immediate
        self._opened_at = 0.0
        self.reconnects = 0  # times the port came back after being lost

    # -- called from any thread ------------------------------------------------------------

    @property
    def state(self) -> LinkState:
        return self._state

    def send(self, key: Hashable, frame: bytes) -> None:
        """Make ``frame`` the current frame for ``key`` and write it soon. Never blocks on I/O."""
        with self._cond:
            if self._closing:
                return
            self._frames[key] = frame
            self._pending.pop(key, None)
            self._pending[key] = None
            self._cond.notify_all()
        self._start()

    def forget(self, key: Hashable) -> None:
        """Stop replaying ``key``'s frame (its display was removed)."""
        with self._cond:
            self._frames.pop(key, None)
            self._pending.pop(key, None)

    def add_receiver(self, receiver: Receiver) -> None:
        """Call ``receiver(bytes)`` (in the link's thread) with whatever the device sends."""
        with self._cond:
            self._receivers.append(receiver)
        self._start()

    def remove_receiver(self, receiver: Receiver) -> None:
        with self._cond:
            if receiver in self._receivers:
                self._receivers.remove(receiver)

    def flush(self, timeout: float = 2.0) -> bool:
        """Wait until every frame handed over so far is written. False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._writing:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closing:
                    return False
                self._cond.wait(remaining)
            return True

    def close(self, flush_timeout: float = 1.0) -> None:
        """Write what is pending (if connected, up to ``flush_timeout``), stop, close the port."""
        if self._state == LinkState.CONNECTED:
            self.flush(flush_timeout)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.write_timeout_s + self.check_interval_s + 2.0)
        self._close_port()
        self._state = LinkState.CLOSED

    # -- the link's thread ------------------------------------------------------------------

    def _start(self) -> None:
        with self._cond:
            if self._thread is not None or self._closing:
                return
            self._thread = threading.Thread(
                target=self._run, name=f"serial-link {self.port}", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while not self._closing:
            try:
                if self._ser is None:
                    self._sleep(self._delay)
                    if not self._closing and not self._open():
                        self._delay = min(max(self._delay * 2, self.retry_min_s), self.retry_max_s)
                    continue
                self._step()
            except (serial.SerialException, OSError) as exc:
                self._lost(str(exc) or type(exc).__name__)
            except Exception:  # a bug must not kill the thread that keeps displays alive
                log.exception("%s on %s: unexpected error in the serial link", self.name, self.port)
                self._lost("unexpected error")

    def _step(self) -> None:
        self._write_pending()
        if self._device_gone():
            self._lost("device removed")
            return
        if self.refresh_s and time.monotonic() - self._last_refresh >= self.refresh_s:
            self._replay_all()
            return
        if self._receivers:
            data = self._ser.read(max(1, self._ser.in_waiting))  # waits up to check_interval
            if data:
                self._dispatch(data)
        else:
            with self._cond:
                if not self._pending and not self._closing:
                    self._cond.wait(self.check_interval_s)

    def _write_pending(self) -> None:
        with self._cond:
            keys = list(self._pending)
            frames = [self._frames[k] for k in keys if k in self._frames]
            self._pending.clear()
            self._writing = bool(frames)
        try:
            for frame in frames:
                self._ser.write(frame)
            if frames:
                self._ser.flush()
        except BaseException:
            with self._cond:  # not written: keep them pending for the reconnect
                for key in keys:
                    if key in self._frames:
                        self._pending.setdefault(key, None)
            raise
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()

    def _replay_all(self) -> None:
        with self._cond:
            for key in self._frames:
                self._pending.setdefault(key, None)
        self._last_refresh = time.monotonic()

    def _dispatch(self, data: bytes) -> None:
        with self._cond:
            receivers = list(self._receivers)
        for receiver in receivers:
            try:
                receiver(data)
            except Exception:
                log.exception("%s on %s: receiver failed on %r", self.name, self.port, data)

    def _open(self) -> bool:
        try:
            ser = serial.serial_for_url(self.port, do_not_open=True)
            ser.baudrate = self.baudrate
            ser.timeout = self.check_interval_s
            ser.write_timeout = self.write_timeout_s
            if self._is_device_path():
                ser.exclusive = True  # a second process on the same port fails loudly
            ser.open()
        except (serial.SerialException, OSError, ValueError) as exc:
            self._mark_down(f"cannot open: {exc}")
            return False
        self._ser = ser
        self._rdev = self._fd_rdev(ser)
        self._opened_at = time.monotonic()
        was_down = self._down_since
        self._state = LinkState.CONNECTED
        self._down_since = None
        self._replay_all()
        if was_down is not None:
            self.reconnects += 1
            log.warning(
                "%s on %s is back after %.1f s; re-sending the last frame",
                self.name, self.port, time.monotonic() - was_down,
            )
        else:
            log.info("%s on %s opened", self.name, self.port)
        return True

    def _lost(self, reason: str) -> None:
        self._close_port()
        self._mark_down(reason)
        # Backoff: a link that was up for a while retries quickly; one that flaps (opens, then
        # fails at once) keeps doubling its delay up to retry_max_s.
        if time.monotonic() - self._opened_at > self.retry_max_s:
            self._delay = self.retry_min_s
        else:
            self._delay = min(max(self._delay * 2, self.retry_min_s), self.retry_max_s)

    def _mark_down(self, reason: str) -> None:
        if self._state != LinkState.DISCONNECTED and not self._closing:
            log.warning(
                "%s on %s is disconnected (%s); retrying every %g s",
                self.name, self.port, reason, self.retry_max_s,
            )
            self._down_since = time.monotonic()
        else:
            log.debug("%s on %s still disconnected: %s", self.name, self.port, reason)
        if not self._closing:
            self._state = LinkState.DISCONNECTED

    def _close_port(self) -> None:
        ser, self._ser, self._rdev = self._ser, None, None
        if ser is not None:
            try:
                ser.close()
            except Exception:  # closing a vanished device may fail; it is gone either way
                pass

    def _sleep(self, seconds: float) -> None:
        with self._cond:
            if not self._closing:
                self._cond.wait(seconds)

    # -- noticing a vanished device without writing to it -------------------------------------

    def _is_device_path(self) -> bool:
        return os.name == "posix" and "://" not in self.port

    @staticmethod
    def _fd_rdev(ser) -> int | None:
        fd = getattr(ser, "fd", None)
        if fd is None:
            return None
        try:
            return os.fstat(fd).st_rdev
        except OSError:
            return None

    def _device_gone(self) -> bool:
        """The port path no longer exists or now names another device (USB adapter unplugged,
        /dev/serial/by-id/... link re-pointed)."""
        if self._rdev is None or not self._is_device_path():
            return False
        try:
            return os.stat(self.port).st_rdev != self._rdev
        except OSError:
            return True
