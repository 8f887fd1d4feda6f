"""A lost database connection is a 503 `database_unavailable` the client can act on
(retry with the same Idempotency-Key), never a 500; other database errors stay 500."""
from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from support.api import Api
from support.app import ADMIN_PASSWORD, make_app


class _Dropped(Exception):
    pass


@pytest.fixture
def api(sqlite_url, clock):
    app = make_app(sqlite_url, clock)
    yield Api(app).login("admin", ADMIN_PASSWORD), app
    app.extensions["tabour"].db.dispose()


def _fail_issue_with(app, monkeypatch, exc):
    def issue(*_a, **_k):
        raise exc
    monkeypatch.setattr(app.extensions["tabour"].commands, "issue", issue)


def test_a_lost_connection_is_a_503(api, monkeypatch):
    client, app = api
    _fail_issue_with(app, monkeypatch, OperationalError(
        "INSERT ...", {}, _Dropped("connection failed: Connection refused")))
    r = client.post("/tickets", {"service": "A"})
    assert r.status_code == 503
    assert r.get_json()["error"]["code"] == "database_unavailable"
    assert "Idempotency-Key" in r.get_json()["error"]["message"]
    assert r.headers["Retry-After"] == "5"


def test_an_invalidated_connection_is_a_503(api, monkeypatch):
    client, app = api
    err = IntegrityError("INSERT ...", {}, _Dropped("server closed the connection"))
    err.connection_invalidated = True
    _fail_issue_with(app, monkeypatch, err)
    assert client.post("/tickets", {"service": "A"}).status_code == 503


def test_other_database_errors_stay_500(api, monkeypatch):
    client, app = api
    _fail_issue_with(app, monkeypatch, IntegrityError("INSERT ...", {}, _Dropped("duplicate")))
    r = client.post("/tickets", {"service": "A"})
    assert r.status_code == 500 and r.get_json()["error"]["code"] == "internal_error"
