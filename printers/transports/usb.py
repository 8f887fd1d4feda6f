"""USB printers through pyusb/libusb: an optional extra, imported only when used."""

from __future__ import annotations

from ..errors import PrinterConfigError, PrinterUnreachable, PrinterWriteError
from ._config import number, required

DEFAULT_TIMEOUT_MS = 3000


def _ids(config: dict, name: str) -> tuple[int, int]:
    def as_int(key: str) -> int:
        value = required(config, key, name)
        try:
            return int(value, 0) if isinstance(value, str) else int(value)
        except ValueError:
            raise PrinterConfigError(f"Printer '{name}': '{key}' must be a number like 0x04b8, got {value!r}") from None
    return as_int("vendor_id"), as_int("product_id")


def where(config: dict) -> str:
    try:
        vendor, product = _ids(config, "?")
        return f"USB {vendor:04x}:{product:04x}"
    except PrinterConfigError:
        return "USB (ids missing)"


def open(config: dict, *, name: str, job_id: str | None = None):
    from escpos.exceptions import DeviceNotFoundError
    from escpos.printer import Usb  # python-escpos imports pyusb lazily itself

    if not Usb.is_usable():
        raise PrinterConfigError(
            f"USB printer '{name}' needs the pyusb package and libusb: pip install pyusb, "
            "apt-get install libusb-1.0-0; or use the printer over network or serial"
        )
    vendor, product = _ids(config, name)
    timeout_ms = int(number(config, "timeout_ms", name, DEFAULT_TIMEOUT_MS))
    extra = {key: config[key] for key in ("in_ep", "out_ep") if key in config}
    device = Usb(idVendor=vendor, idProduct=product, timeout=timeout_ms, **extra)
    try:
        device.open()
    except DeviceNotFoundError as exc:
        raise PrinterUnreachable(
            f"USB printer '{name}' ({vendor:04x}:{product:04x}) was not found or cannot be claimed ({exc}): "
            "check it is on and plugged in, and the udev rule that lets this user use it",
            printer=name, where=where(config)) from exc
    return device


def write(device, payload: bytes, config: dict, *, name: str) -> None:
    try:
        device._raw(payload)
    except Exception as exc:  # pyusb raises usb.core.USBError (and timeouts as its subclass)
        raise PrinterWriteError(
            f"USB printer '{name}' ({where(config)}) failed while printing ({exc}): check paper, cover and cable",
            printer=name, where=where(config)) from exc
