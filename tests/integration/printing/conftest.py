"""A server app in this process and printer agents bridged to it without sockets
(the e2e test covers the socket); virtual printers on TCP and on a pty pair."""
from __future__ import annotations

import pytest

from support.api import Api
from support.kiosk_printing import Bridge, take  # noqa: F401


@pytest.fixture
def app(sqlite_url, clock):
    from support.kiosk_printing import make_app
    app = make_app(sqlite_url, clock)
    yield app
    app.extensions["tabour"].db.dispose()


@pytest.fixture
def kiosk_for(api):
    """A paired kiosk printing on printer ``name``, with counter 1 (services A, E) open."""
    api.open(1)

    def make(name: str) -> Api:
        code = api.post("/kiosk/pairing-codes", {"kiosk_name": f"kiosk {name}",
                                                 "printer": name}).get_json()["code"]
        token = api.as_token(None).post("/kiosk/pair", {"code": code}).get_json()["token"]
        return api.as_token(token)
    return make
