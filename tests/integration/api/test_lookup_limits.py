"""Wrong pairing codes and tracking numbers are counted per client: per address (the
one the trusted proxy names) and per kiosk, in storage every process shares. Guesses
from elsewhere never refuse the right code or number (issue 12, defect 4)."""
from __future__ import annotations

import pytest

from queue_server.dossiers import ids, tracking
from support.api import Api
from support.app import ADMIN_PASSWORD, make_app

INSURED = "12345678" + ids.luhn_digit("12345678")


@pytest.fixture
def proxied(db_url, clock):
    app = make_app(db_url, clock, trusted_proxies=1)
    yield app
    app.extensions["tabour"].db.dispose()


def deposit(admin) -> str:
    r = admin.post("/dossiers", {"type": "old_age_pension", "insured_number": INSURED,
                                 "national_id": "BE123456", "documents": [], "language": "fr",
                                 "idempotency_key": "tap-0001-abc", "print": False})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["dossier"]["tracking"]


def from_(address):
    return {"X-Forwarded-For": address}


def test_guesses_from_one_address_do_not_refuse_another(proxied):
    admin = Api(proxied).login("admin", ADMIN_PASSWORD)
    right = deposit(admin)
    public = admin.as_token(None)
    for _ in range(10):
        r = public.get(f"/public/dossiers/{tracking.new()}", headers=from_("10.0.0.66"))
        assert r.status_code == 404
    r = public.get(f"/public/dossiers/{right}", headers=from_("10.0.0.66"))
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 601
    # a phone elsewhere in the hall: its own count, the right number answers
    assert public.get(f"/public/dossiers/{right}", headers=from_("10.0.0.7")).status_code == 200
    page = proxied.test_client().get(f"/d/{right}.json", headers=from_("10.0.0.7"))
    assert page.status_code == 200
    refused = proxied.test_client().get(f"/d/{right}.json", headers=from_("10.0.0.66"))
    assert refused.status_code == 429 and "Retry-After" in refused.headers


def test_guesses_typed_on_one_kiosk_do_not_refuse_another(proxied):
    """Every kiosk of the branch leaves through one NAT address: counted per kiosk."""
    admin = Api(proxied).login("admin", ADMIN_PASSWORD)
    right = deposit(admin)
    one, two = admin.device("kiosk", "k1"), admin.device("kiosk", "k2")
    web = proxied.test_client()
    nat = from_("10.0.0.1")

    def look(kiosk, number):
        return web.get(f"/d/{number}.json",
                       headers={**nat, "Authorization": f"Bearer {kiosk.token}"})
    limit = proxied.extensions["tabour"].limiters["tracking_kiosk"].limit
    for _ in range(limit):
        assert look(one, tracking.new()).status_code == 404
    assert look(one, right).status_code == 429
    assert look(two, right).status_code == 200
    # nor the phones behind the same address (their count is the address's)
    assert web.get(f"/d/{right}.json", headers=nat).status_code == 200


def test_wrong_pairing_codes_from_one_address_do_not_refuse_a_kiosk(proxied):
    admin = Api(proxied).login("admin", ADMIN_PASSWORD)
    code = admin.post("/kiosk/pairing-codes", {"kiosk_name": "Entrance"}).get_json()["code"]
    anyone = admin.as_token(None)
    for i in range(20):
        r = anyone.post("/kiosk/pair", {"code": f"{i:06d}"}, headers=from_("10.0.0.66"))
        assert r.status_code == 404
    r = anyone.post("/kiosk/pair", {"code": code}, headers=from_("10.0.0.66"))
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.get_json()["error"]["code"] == "too_many_pairing_attempts"
    r = anyone.post("/kiosk/pair", {"code": code}, headers=from_("10.0.0.8"))
    assert r.status_code == 200 and r.get_json()["token"]


def test_the_counts_are_shared_by_every_process(db_url, clock):
    one = make_app(db_url, clock, trusted_proxies=1)
    two = make_app(db_url, clock, trusted_proxies=1, migrate=False)
    try:
        for _ in range(10):
            one.test_client().get(f"/d/{tracking.new()}.json", headers=from_("10.0.0.66"))
        r = two.test_client().get(f"/d/{tracking.new()}.json", headers=from_("10.0.0.66"))
        assert r.status_code == 429
    finally:
        one.extensions["tabour"].db.dispose()
        two.extensions["tabour"].db.dispose()
