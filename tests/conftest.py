"""Fixtures shared by integration and e2e tests."""
from __future__ import annotations

import pytest

from support.clock import FakeClock
from support.databases import PostgresDatabases, require_pg
from support.virtual_printers import ONLINE, PtySerialPrinter, TcpVirtualPrinter

from support.app import ADMIN_PASSWORD, make_app  # noqa: F401  (fixtures below use them)


@pytest.fixture(scope="session")
def pg_databases():
    require_pg()
    dbs = PostgresDatabases()
    yield dbs
    dbs.close()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tabour.sqlite'}"
    return request.getfixturevalue("pg_databases").new()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'tabour.sqlite'}"


@pytest.fixture
def app(db_url, clock):
    app = make_app(db_url, clock)
    yield app
    app.extensions["tabour"].db.dispose()


@pytest.fixture
def api(app):
    from support.api import Api
    return Api(app).login("admin", ADMIN_PASSWORD)


def _printers(kind):
    """A factory of virtual printers of one kind; all are stopped at the end of the test."""
    started = []

    def make(answers=ONLINE):
        printer = kind(answers)
        started.append(printer)
        return printer

    yield make
    for printer in started:
        printer.stop()


@pytest.fixture
def tcp_printer():
    yield from _printers(TcpVirtualPrinter)


@pytest.fixture
def pty_printer():
    yield from _printers(PtySerialPrinter)
