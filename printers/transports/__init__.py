"""Printer transports, chosen by the ``type`` string of a printer's config dict.

    {"type": "network", "host": "192.168.1.50", "port": 9100, "timeout": 3}
    {"type": "serial", "device": "/dev/ttyUSB0", "baudrate": 9600}
    {"type": "usb", "vendor_id": 0x04B8, "product_id": 0x0202}      (needs pyusb)
    {"type": "file", "directory": "var/receipts"}   (<job-id>.bin and <job-id>.png)

Devices are python-escpos printer objects, opened explicitly and closed by the
caller (``opened`` does both). Bytes go through ``device._raw``. Failures raise
``PrinterError`` subclasses whose message says what to check.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import ModuleType

from PIL import Image

from ..errors import PrinterConfigError
from . import file, network, serial, usb

TRANSPORTS: dict[str, ModuleType] = {"network": network, "serial": serial, "usb": usb, "file": file}


def transport_for(config: dict) -> ModuleType:
    kind = config.get("type")
    try:
        return TRANSPORTS[kind]
    except KeyError:
        raise PrinterConfigError(
            f"Printer type {kind!r} is not known: use one of {', '.join(sorted(TRANSPORTS))}"
        ) from None


def describe(config: dict) -> str:
    """Where the printer is, for messages: "127.0.0.1:9100", "/dev/ttyUSB0", ..."""
    return transport_for(config).where(config)


def open_device(config: dict, *, name: str = "printer", job_id: str | None = None):
    """An opened python-escpos device for ``config``; close it with ``device.close()``."""
    return transport_for(config).open(config, name=name, job_id=job_id)


@contextlib.contextmanager
def opened(config: dict, *, name: str = "printer", job_id: str | None = None) -> Iterator[object]:
    device = open_device(config, name=name, job_id=job_id)
    try:
        yield device
    finally:
        device.close()


def send(
    config: dict,
    payload: bytes,
    *,
    name: str = "printer",
    job_id: str = "job",
    preview: Image.Image | None = None,
) -> None:
    """Open the printer, write ``payload`` (ESC/POS bytes), close it.

    The file transport also saves ``preview`` as <job-id>.png.
    """
    transport = transport_for(config)
    with opened(config, name=name, job_id=job_id) as device:
        transport.write(device, payload, config, name=name)
    if preview is not None and transport is file:
        file.save_preview(config, job_id, preview)


__all__ = ["TRANSPORTS", "describe", "open_device", "opened", "send", "transport_for"]
