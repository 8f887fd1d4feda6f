"""Another branch in the test's database, with its own manager (who-may-see-what tests)."""
from __future__ import annotations

from sqlalchemy import insert


def second_branch(api, code: str = "alger-centre", manager: str = "nadia"):
    """(its id, its manager's Api). No services or counters: refusals need none."""
    from queue_server.db import schema
    with api.tabour.db.write() as conn:
        bid = conn.execute(insert(schema.branches).values(
            code=code, names={"fr": "Alger centre"}, timezone="Africa/Algiers",
            languages=["ar", "fr"], display_languages=["ar", "fr"], policy={},
            outcomes=["served"])).inserted_primary_key[0]
    api.tabour.auth.create_user(bid, manager, "password-123", "manager", manager.title())
    return bid, api.login(manager, "password-123")
