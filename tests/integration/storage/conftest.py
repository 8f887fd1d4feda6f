"""The storage tests' branch: services A and B, counters serving both (odd numbers A
first, even ones B first), on the real clock (these tests race real threads)."""
from __future__ import annotations

import pytest

from support.app import make_app

BRANCH = """
[[branch]]
code = "race"
timezone = "Africa/Algiers"
names = { ar = "سباق", fr = "Course", en = "Race" }
service = [
  { prefix = "A", names = { ar = "أ", fr = "A", en = "A" } },
  { prefix = "B", names = { ar = "ب", fr = "B", en = "B" } },
]
counter = [
%s
]
"""


def branch_toml(counters: int) -> str:
    return BRANCH % "\n".join(
        f'  {{ number = {n}, services = {["A", "B"] if n % 2 else ["B", "A"]!r} }},'
        .replace("'", '"') for n in range(1, counters + 1))


@pytest.fixture
def branch_app(db_url, tmp_path):
    """``branch_app(counters)``: the app on that branch (disposed after the test)."""
    from queue_server.clock import utcnow
    made = []

    def make(counters: int):
        cfg = tmp_path / f"branch-{counters}.toml"
        cfg.write_text(branch_toml(counters), encoding="utf-8")
        made.append(make_app(db_url, utcnow, config_path=cfg))
        return made[-1]
    yield make
    for app in made:
        app.extensions["tabour"].db.dispose()


@pytest.fixture
def two_service_app(branch_app):
    return branch_app(2)
