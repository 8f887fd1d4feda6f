"""Serial printers (RS-232 or USB-serial adapters).

At 9600 baud a printer takes ~960 bytes/s, so the write timeout grows with the job.
"""

from __future__ import annotations

import serial as pyserial
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Serial

from ..errors import PrinterUnreachable, PrinterWriteError
from ._config import number, required, seconds

DEFAULT_BAUDRATE = 9600
DEFAULT_TIMEOUT = 1.0


def where(config: dict) -> str:
    return str(config.get("device"))


def open(config: dict, *, name: str, job_id: str | None = None) -> Serial:
    path = required(config, "device", name)
    baudrate = int(config.get("baudrate", DEFAULT_BAUDRATE))
    timeout = number(config, "timeout", name, DEFAULT_TIMEOUT)
    device = Serial(devfile=path, baudrate=baudrate, timeout=timeout,
                    dsrdtr=bool(config.get("dsrdtr", False)), xonxoff=bool(config.get("xonxoff", False)))
    try:
        device.open()
    except DeviceNotFoundError as exc:
        cause = exc.__context__ or exc
        raise PrinterUnreachable(
            f"Serial printer '{name}' on {path} could not be opened ({cause}): check the cable, "
            "the device path and that this user may use it (group dialout)",
            printer=name, where=path) from exc
    return device


def transfer_seconds(payload_len: int, baudrate: int) -> float:
    return payload_len * 10 / baudrate  # 8N1: 10 bits a byte


def write(device: Serial, payload: bytes, config: dict, *, name: str) -> None:
    budget = device.timeout + 2 * transfer_seconds(len(payload), device.baudrate)
    device.device.write_timeout = budget
    try:
        device._raw(payload)
        device.device.flush()
    except pyserial.SerialTimeoutException as exc:
        raise PrinterWriteError(
            f"Serial printer '{name}' on {device.devfile} did not take {len(payload)} bytes within "
            f"{seconds(round(budget, 1))}: check it is on, paper and cover, and the baud rate ({device.baudrate})",
            printer=name, where=device.devfile) from exc
    except (pyserial.SerialException, OSError) as exc:
        raise PrinterWriteError(
            f"Serial printer '{name}' on {device.devfile} failed while printing ({exc}): check the cable",
            printer=name, where=device.devfile) from exc


def read_byte(device: Serial, timeout: float) -> bytes:
    port = device.device
    port.timeout = timeout
    return port.read(1)


def drain(device: Serial) -> None:
    device.device.reset_input_buffer()
