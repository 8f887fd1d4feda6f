"""A token not in this process's cache is read in ONE statement (the token and its
user's state together): every process reads each token once per Auth.CACHE_S, and
a deployment's first minute reads every token of every process."""
from __future__ import annotations

import pytest
from sqlalchemy import event, update

from queue_server.auth import AuthError
from queue_server.db import schema as s


def _statements(db):
    seen = []
    event.listen(db.engine, "before_cursor_execute",  # SQLite's explicit BEGIN aside
                 lambda *a, **k: None if a[2].strip().upper() in ("BEGIN", "COMMIT")
                 else seen.append(a[2]))
    return seen


def test_a_token_miss_is_one_statement_and_a_disabled_user_is_refused(app):
    t = app.extensions["tabour"]
    auth = t.auth
    uid = auth.create_user(1, "lookup-agent", "a-long-password", "agent")
    token, _info = auth.login("lookup-agent", "a-long-password")
    device = auth.create_device(1, "display", "hall")
    seen = _statements(t.db)
    p = auth.authenticate(token)
    assert (p.role, p.user_id, p.kind) == ("agent", uid, "session")
    d = auth.authenticate(device)
    assert (d.role, d.user_id, d.kind) == ("display", None, "device")
    assert len([q for q in seen if "tokens" in q]) == 2 and len(seen) == 2
    auth.authenticate(token)  # cached: nothing read
    assert len(seen) == 2
    # a disabled user's token is refused on its next read (the event path forgets it at
    # once in every process; here the cache is emptied by hand)
    with t.db.write() as conn:
        conn.execute(update(s.users).where(s.users.c.id == uid).values(active=False))
    auth._cache.clear()
    with pytest.raises(AuthError) as refused:
        auth.authenticate(token)
    assert refused.value.code == "token_invalid"


def test_requests_with_one_token_wait_for_its_one_read(app):
    """Twenty requests carrying a token this process has not read yet: one reads it, the
    others wait for that read (a branch's agents and screens at a process's start)."""
    import threading
    import time
    from contextlib import contextmanager
    t = app.extensions["tabour"]
    auth = t.auth
    device = auth.create_device(1, "display", "hall")
    reads = []
    real = t.db.read

    @contextmanager
    def slow_read():
        reads.append(1)
        time.sleep(0.3)  # a loaded pool
        with real() as conn:
            yield conn
    t.db.read = slow_read
    got, errors = [], []

    def one():
        try:
            got.append(auth.authenticate(device).token_id)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
    threads = [threading.Thread(target=one) for _ in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(10)
    t.db.read = real
    assert errors == [] and len(got) == 20 and len(set(got)) == 1
    assert len(reads) == 1


def test_a_revocation_during_the_read_is_not_undone_by_the_cache(app):
    """What a read started before a revocation found is answered, not kept: the next
    request reads the token again and is refused."""
    from contextlib import contextmanager
    t = app.extensions["tabour"]
    auth = t.auth
    device = auth.create_device(1, "display", "hall")
    real = t.db.read

    @contextmanager
    def read_then_revoked():
        with real() as conn:
            yield conn
        with t.db.write() as conn:  # the revocation commits meanwhile ...
            conn.execute(update(s.tokens).where(s.tokens.c.token_hash.is_not(None))
                         .where(s.tokens.c.name == "hall").values(revoked_at=t.clock()))
        auth.forget(token_id=None, user_id=None)  # ... and its event reaches this process
    t.db.read = read_then_revoked
    auth.authenticate(device)
    t.db.read = real
    with pytest.raises(AuthError) as refused:
        auth.authenticate(device)
    assert refused.value.code == "token_invalid"
