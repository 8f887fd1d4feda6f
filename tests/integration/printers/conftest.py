import socket
import time

import pytest


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
