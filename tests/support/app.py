"""Build an app for in-process tests. Imported by path (``support.app``): with
--import-mode=importlib a bare ``import conftest`` may find another folder's."""
from __future__ import annotations

ADMIN_PASSWORD = "admin-pass-for-tests"


def make_app(url, clock, **settings):
    from queue_server.app import create_app
    from queue_server.settings import Settings
    s = Settings(database_url=url, async_mode="threading", admin_password=ADMIN_PASSWORD,
                 coalesce_s=0.02, **settings)
    return create_app(s, clock=clock)
