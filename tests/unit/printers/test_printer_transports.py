"""Printer config dicts, the file printer, and errors a person can act on."""

import pytest
from PIL import Image

from printers.errors import PrinterConfigError, PrinterUnreachable
from printers.transports import describe, open_device, send, usb


def test_unknown_type_lists_the_known_ones():
    with pytest.raises(PrinterConfigError, match="file, network, serial, usb"):
        open_device({"type": "bluetooth"}, name="kiosk-1")


def test_missing_setting_names_the_printer_and_the_key():
    with pytest.raises(PrinterConfigError, match="Printer 'kiosk-1' \\(type 'network'\\) needs a 'host'"):
        open_device({"type": "network"}, name="kiosk-1")
    with pytest.raises(PrinterConfigError, match="'timeout' must be a number"):
        open_device({"type": "network", "host": "127.0.0.1", "timeout": "soon"}, name="kiosk-1")


def test_describe():
    assert describe({"type": "network", "host": "10.0.0.5"}) == "10.0.0.5:9100"
    assert describe({"type": "serial", "device": "/dev/ttyUSB0"}) == "/dev/ttyUSB0"
    assert describe({"type": "usb", "vendor_id": "0x04b8", "product_id": 514}) == "USB 04b8:0202"


def test_file_printer_writes_raw_bytes_and_a_png_preview(tmp_path):
    config = {"type": "file", "directory": str(tmp_path / "receipts")}
    preview = Image.new("1", (384, 100), 255)
    send(config, b"\x1b@hello\n", name="files", job_id="2026-11-23-A-042", preview=preview)
    assert (tmp_path / "receipts" / "2026-11-23-A-042.bin").read_bytes() == b"\x1b@hello\n"
    with Image.open(tmp_path / "receipts" / "2026-11-23-A-042.png") as png:
        assert png.size == (384, 100)


def test_file_printer_refuses_job_ids_that_are_paths(tmp_path):
    with pytest.raises(PrinterConfigError, match="cannot be a file name"):
        send({"type": "file", "directory": str(tmp_path)}, b"x", job_id="../../etc/passwd")


def test_file_printer_in_an_unwritable_place_is_unreachable(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(PrinterUnreachable, match="File printer 'files' cannot create"):
        send({"type": "file", "directory": str(blocker / "sub")}, b"x", name="files", job_id="j")


def test_usb_without_pyusb_says_what_to_install(monkeypatch):
    from escpos.printer import Usb

    monkeypatch.setattr(Usb, "is_usable", staticmethod(lambda: False))
    with pytest.raises(PrinterConfigError, match="pip install pyusb"):
        usb.open({"type": "usb", "vendor_id": 0x04B8, "product_id": 0x0202}, name="kiosk-usb")


def test_serial_device_that_does_not_exist(tmp_path):
    with pytest.raises(PrinterUnreachable, match=r"Serial printer 'counter-3' on .*ttyUSB9 could not be opened"):
        open_device({"type": "serial", "device": str(tmp_path / "ttyUSB9")}, name="counter-3")
