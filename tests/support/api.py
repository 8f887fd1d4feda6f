"""A small helper over Flask's test client that carries a bearer token."""
from __future__ import annotations

import json


class Api:
    def __init__(self, app, token: str | None = None):
        self.app = app
        self.client = app.test_client()
        self.token = token

    @property
    def tabour(self):
        return self.app.extensions["tabour"]

    def login(self, username: str, password: str) -> "Api":
        r = self.client.post("/api/v1/auth/token", json={"username": username, "password": password})
        assert r.status_code == 200, r.get_json()
        return Api(self.app, r.get_json()["token"])

    def as_token(self, token: str | None) -> "Api":
        return Api(self.app, token)

    def device(self, role: str, name: str = "device") -> "Api":
        r = self.post("/devices", {"role": role, "name": name})
        assert r.status_code == 201, r.get_json()
        return Api(self.app, r.get_json()["token"])

    def user(self, username: str, role: str, password: str = "password-123") -> "Api":
        r = self.post("/users", {"username": username, "password": password, "role": role})
        assert r.status_code == 201, r.get_json()
        return self.login(username, password)

    def _headers(self, extra=None):
        h = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        h.update(extra or {})
        return h

    def get(self, path: str, **kw):
        return self.client.get("/api/v1" + path, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, path: str, body=None, raw: str | None = None, **kw):
        headers = self._headers(kw.pop("headers", None))
        if raw is not None:
            return self.client.post("/api/v1" + path, data=raw, headers=headers,
                                    content_type="application/json", **kw)
        return self.client.post("/api/v1" + path, data=json.dumps(body or {}), headers=headers,
                                content_type="application/json", **kw)

    def put(self, path: str, body=None, **kw):
        return self.client.put("/api/v1" + path, data=json.dumps(body or {}),
                               headers=self._headers(kw.pop("headers", None)),
                               content_type="application/json", **kw)

    def patch(self, path: str, body=None):
        return self.client.patch("/api/v1" + path, data=json.dumps(body or {}),
                                 headers=self._headers(), content_type="application/json")

    # shortcuts
    def issue(self, service="A", priority=False, language="fr", **kw):
        r = self.post("/tickets", {"service": service, "priority": priority, "language": language, **kw})
        assert r.status_code in (200, 201), r.get_json()
        return r.get_json()

    def open(self, number: int):
        r = self.post(f"/counters/{number}/open")
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def call_next(self, number: int):
        return self.post(f"/counters/{number}/call-next")
