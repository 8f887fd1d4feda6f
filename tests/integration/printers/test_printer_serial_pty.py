"""A job and status queries through python-escpos Serial on a pty pair."""

import time

from printers import encode, query_status, render_deposit, render_image, send
from printers.blocks import ImageBlock
from printers.samples import deposit_ar
from printers.status import read_status
from printers.transports import opened, serial
from support import virtual_printers as vp
from support.pixels import same_pixels


def test_deposit_receipt_through_a_serial_pty_decodes_back_to_the_render(pty_printer):
    printer = pty_printer()
    blocks = render_deposit(deposit_ar(), "80mm")
    payload = encode(blocks, "80mm")
    send(printer.config, payload, name="counter-5", job_id="d-1")
    received = printer.wait_for(lambda data: len(data) >= len(payload))
    assert received == payload  # no newline translation, nothing lost
    decoded = vp.decode(received, 576)
    assert decoded.text_block("D-2026-004217").bold
    sent_images = [b.image for b in blocks if isinstance(b, ImageBlock)]
    assert all(same_pixels(a, b.image) for a, b in zip(sent_images, decoded.images, strict=True))
    assert same_pixels(render_image(decoded.blocks, "80mm"), render_image(blocks, "80mm"))


def test_fake_printer_saying_paper_out_gives_paper_out(pty_printer):
    printer = pty_printer(vp.PAPER_OUT)
    status = query_status(printer.config, name="counter-5", timeout=1)
    assert status.state == "paper_out"
    assert printer.queries == [1, 4, 2, 3]


def test_status_ignores_answers_left_over_from_the_job_just_sent(pty_printer):
    printer = pty_printer(vp.ONLINE)
    with opened(printer.config, name="counter-5") as device:
        # DLE EOT inside a job (raster data can hold these bytes): the printer answers, nobody reads it
        serial.write(device, b"\x1b@\x10\x04\x04\x10\x04\x01", printer.config, name="counter-5")
        printer.wait_for(lambda data: len(data) >= 8)
        time.sleep(0.05)
        printer.responder.answers = vp.PAPER_NEAR_END
        assert read_status(serial, device, timeout=1).state == "paper_near_end"


def test_serial_printer_that_answers_nothing_is_offline_within_the_timeout(pty_printer):
    printer = pty_printer(None)
    start = time.monotonic()
    status = query_status(printer.config, name="counter-5", timeout=0.4)
    assert status.state == "offline"
    assert time.monotonic() - start < 1.0
