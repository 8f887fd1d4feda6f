"""Wrong passwords are limited per client address and per account, in storage every
process shares, refused before hashing; a browser that signed in before holds a device
cookie that the lockouts do not touch (issue 12, defect 1)."""
from __future__ import annotations

import pytest

from support.app import ADMIN_PASSWORD, make_app

TOKEN = "/api/v1/auth/token"


@pytest.fixture
def proxied(db_url, clock):
    """Behind one trusted proxy: X-Forwarded-For names the client."""
    app = make_app(db_url, clock, trusted_proxies=1)
    yield app
    app.extensions["tabour"].db.dispose()


def login(client, username, password, address):
    return client.post(TOKEN, json={"username": username, "password": password},
                       headers={"X-Forwarded-For": address})


def hashes(app):
    """Count the password hashes the server computes from now on."""
    auth = app.extensions["tabour"].auth
    seen = []

    def counting(inner):
        def run(fn, *args):
            seen.append(fn.__name__)
            return inner(fn, *args)
        return run
    auth.offload = counting(auth.offload)
    auth.offload_unknown = counting(auth.offload_unknown)
    return seen


def test_an_address_over_its_limit_is_refused_before_hashing(proxied, clock):
    attacker = proxied.test_client()
    for i in range(20):  # many usernames from one address
        assert login(attacker, f"user{i}", "wrong-password", "10.0.0.66").status_code == 401
    seen = hashes(proxied)
    r = login(attacker, "admin", ADMIN_PASSWORD, "10.0.0.66")
    assert r.status_code == 429
    body = r.get_json()["error"]
    assert body["code"] == "too_many_logins" and "wait" in body["message"].lower()
    assert 1 <= int(r.headers["Retry-After"]) <= 601  # the 10-minute window
    assert seen == []  # refused before any hash
    # another address is not held back
    assert login(proxied.test_client(), "admin", ADMIN_PASSWORD, "10.0.0.7").status_code == 200
    # the window passes: the address may try again
    clock.advance(seconds=int(r.headers["Retry-After"]) + 1)
    assert login(attacker, "admin", ADMIN_PASSWORD, "10.0.0.66").status_code == 200


def test_a_device_cookie_exempts_a_browser_from_the_address_lockout(proxied):
    staff = proxied.test_client()  # a counter PC behind the same NAT as the attacker
    assert login(staff, "admin", ADMIN_PASSWORD, "10.0.0.66").status_code == 200
    cookie = staff.get_cookie("tabour_device", path="/api/v1/auth/")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    attacker = proxied.test_client()
    for i in range(25):
        login(attacker, f"user{i}", "wrong-password", "10.0.0.66")
    assert login(attacker, "admin", ADMIN_PASSWORD, "10.0.0.66").status_code == 429
    assert login(staff, "admin", ADMIN_PASSWORD, "10.0.0.66").status_code == 200
    # a forged or foreign cookie is no exemption
    forged = proxied.test_client()
    forged.set_cookie("tabour_device", cookie.value[:-4] + "AAAA", path="/api/v1/auth/")
    assert login(forged, "admin", ADMIN_PASSWORD, "10.0.0.66").status_code == 429


def test_an_attacker_cannot_lock_an_account_against_its_owners_browser(proxied):
    api = proxied.test_client()
    owner = proxied.test_client()
    assert login(owner, "admin", ADMIN_PASSWORD, "10.1.1.1").status_code == 200
    # wrong passwords for admin from many addresses: the account's untrusted clients lock
    for i in range(12):
        r = login(api, "admin", "wrong-password", f"10.9.{i}.1")
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "too_many_logins"
    # a new client without a cookie for admin, from a fresh address: locked too
    assert login(proxied.test_client(), "admin", ADMIN_PASSWORD, "10.2.2.2").status_code == 429
    # the owner's browser signs in, from anywhere
    assert login(owner, "admin", ADMIN_PASSWORD, "10.3.3.3").status_code == 200
    # the cookie is bound to the user it signed in: not an exemption for another account
    assert login(owner, "nobody", "wrong-password", "10.3.3.3").status_code == 401


def test_a_device_cookie_has_its_own_limit(proxied):
    browser = proxied.test_client()
    assert login(browser, "admin", ADMIN_PASSWORD, "10.4.4.4").status_code == 200
    for _ in range(10):  # a stolen laptop: its cookie is worth 10 guesses
        assert login(browser, "admin", "wrong-password", "10.4.4.4").status_code == 401
    # then it is an unknown client: the account's counter (10) applies
    for _ in range(11):
        r = login(browser, "admin", "wrong-password", "10.4.4.4")
    assert r.status_code == 429


def test_every_process_sees_the_same_counts(db_url, clock):
    """Two server processes on one database: failures counted by one refuse on the other."""
    one = make_app(db_url, clock, trusted_proxies=1)
    two = make_app(db_url, clock, trusted_proxies=1, migrate=False)
    try:
        for i in range(20):
            login(one.test_client(), f"u{i}", "wrong-password", "10.5.5.5")
        assert login(two.test_client(), "admin", ADMIN_PASSWORD, "10.5.5.5").status_code == 429
    finally:
        one.extensions["tabour"].db.dispose()
        two.extensions["tabour"].db.dispose()


def test_without_a_trusted_proxy_the_forwarded_address_is_ignored(app):
    """X-Forwarded-For from a client is a lie unless a proxy we trust wrote it."""
    c = app.test_client()
    for i in range(20):
        login(c, f"u{i}", "wrong-password", f"10.6.{i}.1")  # one address really
    assert login(c, "admin", ADMIN_PASSWORD, "10.7.7.7").status_code == 429


def test_with_redis_every_process_sees_the_same_counts(clock):
    """TABOUR_MESSAGE_QUEUE=redis://...: the counts live in Redis, shared."""
    import uuid

    import redis

    from queue_server.login_guard import LoginGuard, TooManyLogins
    from queue_server.settings import Settings
    from queue_server.shared import RedisCounters, counters_for
    url = "redis://127.0.0.1:6379/0"
    channel = f"test-{uuid.uuid4().hex}"
    chosen = counters_for(Settings(message_queue=url, channel=channel), None, clock)
    assert isinstance(chosen, RedisCounters)
    one = LoginGuard(chosen, clock, b"k" * 32)
    two = LoginGuard(RedisCounters(url, prefix=f"tabour:{channel}"), clock, b"k" * 32)
    try:
        for i in range(20):
            one.failed("10.8.8.8", f"user{i}", None)
        with pytest.raises(TooManyLogins):
            two.admit("10.8.8.8", "someone", None)
        two.admit("10.8.8.9", "someone", None)  # another address: let in
    finally:
        r = redis.Redis.from_url(url)
        for key in r.scan_iter(f"tabour:{channel}:*"):
            r.delete(key)
