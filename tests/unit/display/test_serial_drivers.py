import pytest
from hypothesis import given
from hypothesis import strategies as st

from display.serial_display.drivers import (
    CounterDisplayDriver,
    FrameError,
    PlainLineDriver,
    TabourDriver,
    driver_for,
    parse_tabour_frame,
    xor_checksum,
)


def test_documented_example_frame():
    # the bytes printed in display/SERIAL_PROTOCOL.md
    assert TabourDriver().frame_for(3, "A-042") == bytes.fromhex("02 30 33 53 41 2D 30 34 32 03 30 39")
    assert TabourDriver().blank(3) == bytes.fromhex("02 30 33 43 03 34 33")


def test_checksum_is_xor_of_addr_through_etx():
    frame = TabourDriver().frame_for(12, "B-7")
    body = frame[1:-2]
    x = 0
    for b in body:
        x ^= b
    assert frame[-2:] == b"%02X" % x
    assert body.startswith(b"12S") and body.endswith(b"\x03")


@given(st.integers(0, 99), st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=32))
def test_roundtrip(counter, text):
    assert parse_tabour_frame(TabourDriver().frame_for(counter, text)) == (counter, "S", text)


@given(st.text(max_size=60))
def test_any_text_gives_a_valid_frame_without_control_bytes(text):
    frame = TabourDriver().frame_for(5, text)
    address, command, payload = parse_tabour_frame(frame)
    assert (address, command) == (5, "S")
    assert len(payload) <= 32
    assert all(0x20 <= ord(c) <= 0x7E for c in payload)


def test_non_ascii_replaced_and_long_text_cut():
    assert parse_tabour_frame(TabourDriver().frame_for(1, "é\x02\x03X"))[2] == "???X"
    assert parse_tabour_frame(TabourDriver().frame_for(1, "Y" * 50))[2] == "Y" * 32


def test_parse_rejects_corruption():
    frame = bytearray(TabourDriver().frame_for(3, "A-042"))
    frame[4] ^= 0x01  # one bit flipped on the line
    with pytest.raises(FrameError, match="checksum"):
        parse_tabour_frame(bytes(frame))
    with pytest.raises(FrameError):
        parse_tabour_frame(b"A-042\r\n")


@pytest.mark.parametrize("counter", [-1, 100])
def test_counter_out_of_range(counter):
    with pytest.raises(ValueError):
        TabourDriver().frame_for(counter, "A-1")


def test_plain_line_model():
    driver = PlainLineDriver()
    assert driver.frame_for(3, "A-042") == b"A-042\r\n"
    assert driver.blank(3) == b"\r\n"


def test_driver_for_model_strings():
    assert isinstance(driver_for("tabour"), TabourDriver)
    assert isinstance(driver_for("DEFAULT"), TabourDriver)
    assert isinstance(driver_for("plain-line"), PlainLineDriver)
    for model in ("tabour", "plain-line"):
        assert isinstance(driver_for(model), CounterDisplayDriver)
    with pytest.raises(ValueError, match="unknown counter display model"):
        driver_for("acme-9000")


def test_xor_checksum_format():
    assert xor_checksum(b"") == b"00"
    assert xor_checksum(b"\xff") == b"FF"
