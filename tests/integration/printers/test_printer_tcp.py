"""A job and status queries through a raw TCP virtual printer on 127.0.0.1."""

import socket
import threading
import time

import pytest

from printers import PrinterUnreachable, PrinterWriteError, encode, query_status, render_image, render_ticket, send
from printers.blocks import ImageBlock, TextBlock
from printers.samples import ticket_ar_fr
from support import virtual_printers as vp
from support.pixels import same_pixels


def test_ticket_through_tcp_decodes_back_to_the_render(tcp_printer):
    printer = tcp_printer()
    blocks = render_ticket(ticket_ar_fr(), "80mm")
    payload = encode(blocks, "80mm")
    send(printer.config, payload, name="kiosk-1", job_id="t-1")
    received = printer.wait_for(lambda data: len(data) >= len(payload))
    assert received == payload
    decoded = vp.decode(received, 576)
    assert decoded.text_block("A-042").width_mult == 6
    sent_images = [b.image for b in blocks if isinstance(b, ImageBlock)]
    assert len(decoded.images) == len(sent_images)
    assert all(same_pixels(a, b.image) for a, b in zip(sent_images, decoded.images))
    assert [b for b in decoded.blocks if isinstance(b, TextBlock)] == [b for b in blocks if isinstance(b, TextBlock)]
    assert same_pixels(render_image(decoded.blocks, "80mm"), render_image(blocks, "80mm"))


@pytest.mark.parametrize("answers, state", [(vp.ONLINE, "online"), (vp.PAPER_NEAR_END, "paper_near_end"),
                                            (vp.COVER_OPEN, "cover_open"), (vp.GARBAGE, "unknown")])
def test_status_over_tcp(tcp_printer, answers, state):
    printer = tcp_printer(answers)
    assert query_status(printer.config, name="kiosk-1", timeout=1).state == state
    assert printer.queries[:1] == [1]


def test_printer_that_answers_nothing_is_offline_within_the_timeout(tcp_printer):
    printer = tcp_printer(None)
    start = time.monotonic()
    status = query_status(printer.config, name="kiosk-1", timeout=0.4)
    elapsed = time.monotonic() - start
    assert status.state == "offline"
    assert 0.35 <= elapsed < 1.0
    assert printer.queries == [1]


def test_nothing_listening_is_offline_with_an_actionable_message():
    with socket.socket() as probe:  # a free port, then closed: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = {"type": "network", "host": "127.0.0.1", "port": port}
    status = query_status(config, name="kiosk-1", timeout=0.5)
    assert status.state == "offline"
    assert f"Printer 'kiosk-1' at 127.0.0.1:{port} refused the connection" in status.detail
    with pytest.raises(PrinterUnreachable, match="refused the connection: check the address"):
        send(config, b"x", name="kiosk-1")


def test_connect_timeout_message(black_hole_port):
    config = {"type": "network", "host": "127.0.0.1", "port": black_hole_port, "timeout": 0.3}
    start = time.monotonic()
    with pytest.raises(PrinterUnreachable) as err:
        send(config, b"x", name="kiosk-1")
    assert time.monotonic() - start < 1.5
    assert str(err.value) == (f"Printer 'kiosk-1' at 127.0.0.1:{black_hole_port} did not answer within 0.3 s: "
                              "check it is on and cabled")
    assert err.value.printer == "kiosk-1" and err.value.where == f"127.0.0.1:{black_hole_port}"
    assert query_status(config, name="kiosk-1", timeout=0.3).state == "offline"


def test_printer_that_stops_reading_raises_a_write_error():
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    held = []
    threading.Thread(target=lambda: held.append(server.accept()), daemon=True).start()
    config = {"type": "network", "host": "127.0.0.1", "port": server.getsockname()[1], "timeout": 0.3}
    try:
        with pytest.raises(PrinterWriteError, match="stopped taking data for 0.3 s: check paper, cover"):
            send(config, b"\x00" * (16 << 20), name="kiosk-1")
    finally:
        for conn, _ in held:
            conn.close()
        server.close()
