"""Serial LED displays above the counters (and their optional keypads), fed by the fan-out.

Configured per counter in config/branches.toml:

    [[branch.counter]]
    number = 3
    services = ["B", "A"]
    serial = { port = "/dev/serial/by-id/usb-FTDI_...-port0", model = "tabour", baudrate = 9600, keypad = true }

``model`` picks the driver (display/serial_display/drivers.py: "tabour", "plain-line");
``keypad = true`` reads key presses from the same wire (SERIAL_PROTOCOL.md); ``keypad =
"/dev/..."`` reads them from another port. The display shows the ticket code on call and
recall and goes blank when the ticket leaves the counter (finish, no-show, transfer,
park, cancel). A vanished port never raises here: the link retries in the background and
re-sends the current frame when the cable is back.
"""
from __future__ import annotations

import logging

from .db import repo
from .engine.errors import DomainError
from .engine.model import Actor

log = logging.getLogger("tabour.serial")

SHOW = ("ticket_called", "ticket_recalled")
LINK_KEYS = ("retry_min_s", "retry_max_s", "check_interval_s", "refresh_s", "write_timeout_s")
CLEAR = ("ticket_finished", "ticket_no_show", "ticket_transferred", "ticket_parked",
         "ticket_cancelled", "ticket_recycled")


class SerialCounters:
    def __init__(self, fanout, commands, db, link_options: dict | None = None,
                 branches: list[dict] | None = None):
        self.fanout = fanout
        self.commands = commands
        self.db = db
        self.link_options = link_options or {}
        self.branches = branches or []  # the config's [[branch]] tables
        self._registered = False
        self.displays: dict[tuple[int, int], object] = {}  # (branch_id, counter) -> display
        self.keypads: dict[tuple[int, int], object] = {}
        self.outcomes: dict[int, str] = {}
        self.errors: list[str] = []

    def configure(self, branches: list[dict] | None = None) -> "SerialCounters":
        """Open the displays and keypads the config names (``branches``: the [[branch]]
        tables). Only one server process does (it holds the "serial-ports" lease): it
        hears every process's calls, since every batch reaches every process."""
        branches = self.branches if branches is None else branches
        from display.serial_display import SerialCounterDisplay, SerialKeypad
        with self.db.read() as conn:
            ids = {b.code: b for b in repo.load_branches(conn)}
        for cfg in branches:
            branch = ids.get(cfg.get("code"))
            if branch is None:
                continue
            outcomes = list(cfg.get("outcomes") or sorted(branch.outcomes) or ["served"])
            self.outcomes[branch.id] = outcomes[0]
            for c in cfg.get("counter") or []:
                serial = c.get("serial")
                if not serial:
                    continue
                number = int(c["number"])
                try:
                    tuning = {k: float(serial[k]) for k in LINK_KEYS if k in serial}
                    display = SerialCounterDisplay(
                        serial["port"], int(serial.get("baudrate", 9600)),
                        serial.get("model", "tabour"), number,
                        **{**self.link_options, **tuning})
                except (KeyError, ValueError, TypeError) as exc:
                    msg = (f"Counter {number}: the serial display config {serial!r} is not "
                           f"valid ({exc}); fix config/branches.toml.")
                    log.error(msg)
                    self.errors.append(msg)
                    continue
                self.displays[(branch.id, number)] = display
                keypad = serial.get("keypad")
                if keypad:
                    on_key = self._on_key_for(branch.id, number)
                    if keypad is True:
                        self.keypads[(branch.id, number)] = SerialKeypad(
                            display.port, on_key, link=display.link)
                    else:
                        self.keypads[(branch.id, number)] = SerialKeypad(
                            str(keypad), on_key, int(serial.get("baudrate", 9600)),
                            name=f"Counter {number} keypad", **self.link_options)
        if self.displays:
            self.register()
            log.info("serial counter displays: %s", ", ".join(
                f"counter {n} on {d.port}" for (_, n), d in sorted(self.displays.items())))
        return self

    def register(self) -> None:
        if self._registered:
            return
        self._registered = True
        for kind in SHOW:
            self.fanout.on(kind, self._show, everywhere=True)
        for kind in CLEAR:
            self.fanout.on(kind, self._clear, everywhere=True)

    # --- fan-out handlers -------------------------------------------------------------

    def _show(self, _fanout, branch_id, _seq, event) -> None:
        d = self.displays.get((branch_id, event.data.get("counter_number")))
        if d is not None:
            d.show(event.data["code"])  # returns at once; the link's thread writes

    def _clear(self, _fanout, branch_id, _seq, event) -> None:
        d = self.displays.get((branch_id, event.data.get("counter_number")))
        if d is not None and d.text == event.data.get("code"):
            d.clear()

    # --- keypad -----------------------------------------------------------------------

    def _on_key_for(self, branch_id: int, number: int):
        actor = Actor("device", None, f"keypad counter {number}")

        def on_key(key: str) -> None:
            c = self.commands
            try:
                if key == "next":
                    c.call_next(branch_id, number, actor)
                elif key == "recall":
                    c.recall(branch_id, number, actor)
                elif key == "start":
                    c.start(branch_id, number, actor)
                elif key == "no_show":
                    c.no_show(branch_id, number, actor)
                elif key == "finish":
                    c.finish(branch_id, number, actor, self.outcomes.get(branch_id, "served"))
                elif key == "pause":
                    c.counter_action(branch_id, number, "pause", actor)
            except DomainError as exc:  # e.g. "next" while a ticket is still at the counter
                log.info("counter %s keypad %r refused: %s", number, key, exc.message)
            except Exception:  # the keypad thread must live on (a database blip)
                log.exception("counter %s keypad %r failed", number, key)
        return on_key

    def close(self) -> None:
        for k in list(self.keypads.values()):
            k.close()
        for d in list(self.displays.values()):
            d.close()
        self.keypads.clear()
        self.displays.clear()
