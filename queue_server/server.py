"""The production server for the default run path: gevent's WSGI server.

gevent's server does not set TCP_NODELAY, so each keep-alive response waited
for the peer's delayed ACK (~44 ms, measured): every accepted socket gets it.
"""
from __future__ import annotations

import logging
import signal
import socket

import gevent
from gevent.pywsgi import WSGIServer

log = logging.getLogger("tabour.server")


class NoDelayWSGIServer(WSGIServer):
    def handle(self, sock, address):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        super().handle(sock, address)


def listener(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def serve(app, host: str, port: int, on_ready=None) -> None:
    server = NoDelayWSGIServer(listener(host, port), app, log=None, error_log=log)

    def stop(*_):
        log.info("stopping")
        gevent.spawn(server.stop, timeout=3)

    gevent.signal_handler(signal.SIGTERM, stop)
    gevent.signal_handler(signal.SIGINT, stop)
    server.start()
    if on_ready:
        on_ready(server.server_port)
    server.serve_forever()
