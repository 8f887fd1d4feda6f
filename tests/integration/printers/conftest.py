import socket
import time

import pytest

from support.virtual_printers import ONLINE, PtySerialPrinter, TcpVirtualPrinter


@pytest.fixture
def tcp_printer():
    """A factory of TCP virtual printers; all are stopped at the end of the test."""
    started = []

    def make(answers=ONLINE):
        printer = TcpVirtualPrinter(answers)
        started.append(printer)
        return printer

    yield make
    for printer in started:
        printer.stop()


@pytest.fixture
def pty_printer():
    started = []

    def make(answers=ONLINE):
        printer = PtySerialPrinter(answers)
        started.append(printer)
        return printer

    yield make
    for printer in started:
        printer.stop()


@pytest.fixture
def black_hole_port():
    """A port whose listen queue is full: connecting to it times out instead of being refused."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(16):
        probe = socket.socket()
        probe.settimeout(0.05)
        try:
            probe.connect(("127.0.0.1", port))
            fillers.append(probe)
        except (socket.timeout, BlockingIOError):
            probe.close()
            break
    else:
        pytest.fail("could not fill the listen queue to simulate a printer that does not answer")
    time.sleep(0.05)
    yield port
    for sock in fillers:
        sock.close()
    server.close()
