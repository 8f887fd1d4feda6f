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
