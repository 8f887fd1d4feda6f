"""Fixtures of the deployment tests (nginx, several processes, outages)."""
from __future__ import annotations

import pytest
import redis

from support.topology import SHARED_REDIS


@pytest.fixture
def shared_redis():
    """The local Redis, for tests that only need a channel of their own on it."""
    try:
        redis.Redis.from_url(SHARED_REDIS).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {SHARED_REDIS} ({exc}): `make services`")
    return SHARED_REDIS
