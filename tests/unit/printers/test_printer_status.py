"""Parsing the answers to DLE EOT 1..4 into one printer state."""

import logging

import pytest

from printers.status import parse, query_status
from support import virtual_printers as vp


@pytest.mark.parametrize(
    "answers, state",
    [
        (vp.ONLINE, "online"),
        (vp.PAPER_NEAR_END, "paper_near_end"),
        (vp.PAPER_OUT, "paper_out"),
        (vp.COVER_OPEN, "cover_open"),
        (vp.CUTTER_ERROR, "error"),
        ({1: b"\x1a", 2: b"\x12", 3: b"\x12", 4: b"\x12"}, "offline"),  # offline, no cause given
        ({1: b"\x12", 4: b"\x72"}, "paper_out"),  # paper end seen by the sensor while still online
        ({1: b""}, "offline"),  # no answer
        ({}, "offline"),
    ],
)
def test_states(answers, state):
    assert parse(answers).state == state


@pytest.mark.parametrize(
    "answer",
    [b"\xff", b"\x00", b"\x13", b"\x92", b"\x02", b"\x10", b"\x12\x12", b"OK"],
)
def test_bytes_failing_the_fixed_bits_are_unknown_and_logged(answer, caplog):
    with caplog.at_level(logging.WARNING, logger="printers.status"):
        status = parse({1: answer, 4: b"\x12"})
    assert status.state == "unknown"
    assert "fixed-bit" in status.detail or "expected 1" in status.detail
    assert "printer status unknown" in caplog.text


def test_garbage_in_the_paper_answer_is_unknown_too():
    assert parse({1: b"\x12", 4: b"\x80"}).state == "unknown"


def test_other_bits_of_a_valid_online_byte_are_still_online():
    assert parse({1: b"\x16", 4: b"\x12"}).state == "online"  # bit 2: drawer kick-out connector


def test_file_printer_is_online_when_its_directory_is_writable(tmp_path):
    assert query_status({"type": "file", "directory": str(tmp_path)}).state == "online"


def test_usb_status_is_unknown_not_an_exception():
    status = query_status({"type": "usb", "vendor_id": 0x04B8, "product_id": 0x0202})
    assert status.state == "unknown"
