"""Raw TCP printers (port 9100), with timeouts on connect, send and status reads."""

from __future__ import annotations

import socket

from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Network

from ..errors import PrinterUnreachable, PrinterWriteError
from ._config import number, required, seconds

DEFAULT_PORT = 9100
DEFAULT_TIMEOUT = 3.0


def where(config: dict) -> str:
    return f"{config.get('host')}:{config.get('port', DEFAULT_PORT)}"


def open(config: dict, *, name: str, job_id: str | None = None) -> Network:
    host = required(config, "host", name)
    port = int(config.get("port", DEFAULT_PORT))
    timeout = number(config, "timeout", name, DEFAULT_TIMEOUT)
    device = Network(host=host, port=port, timeout=timeout)
    at = f"Printer '{name}' at {host}:{port}"
    try:
        device.open()
    except DeviceNotFoundError as exc:
        cause = exc.__context__
        if isinstance(cause, socket.timeout):
            msg = f"{at} did not answer within {seconds(timeout)}: check it is on and cabled"
        elif isinstance(cause, ConnectionRefusedError):
            msg = f"{at} refused the connection: check the address and that port {port} is the printer's raw port"
        elif isinstance(cause, socket.gaierror):
            msg = f"Printer '{name}': host '{host}' is unknown: check the address in the printer settings"
        else:
            msg = f"{at} could not be reached ({cause or exc}): check the network and the printer's address"
        raise PrinterUnreachable(msg, printer=name, where=f"{host}:{port}") from exc
    return device


def write(device: Network, payload: bytes, config: dict, *, name: str) -> None:
    at = f"Printer '{name}' at {device.host}:{device.port}"
    try:
        device._raw(payload)
    except socket.timeout as exc:
        raise PrinterWriteError(
            f"{at} stopped taking data for {seconds(device.timeout)}: check paper, cover and error light",
            printer=name, where=where(config)) from exc
    except OSError as exc:
        raise PrinterWriteError(
            f"{at} dropped the connection while printing ({exc}): check it is on, then print again",
            printer=name, where=where(config)) from exc


def read_byte(device: Network, timeout: float) -> bytes:
    """One answer byte, or b"" when nothing came within ``timeout``."""
    sock = device.device
    sock.settimeout(timeout)
    try:
        return sock.recv(1)
    except socket.timeout:
        return b""


def drain(device: Network) -> None:
    """Drop bytes a printer sent unasked (automatic status), so an answer is the answer."""
    sock = device.device
    sock.setblocking(False)
    try:
        while sock.recv(64):
            pass
    except (BlockingIOError, InterruptedError):
        pass
    finally:
        sock.setblocking(True)
