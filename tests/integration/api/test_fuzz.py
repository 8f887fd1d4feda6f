"""Schemathesis against a real, throwaway server process (run.py on SQLite).

Every operation of /api/v1/openapi.json, as the admin and without a token, with data
that fits the document (positive, 20 examples) and data that does not (negative, 10):
30 examples per operation and role (15 for an operation that needs a token, called
without one: it answers 401 before reading anything). Three checks on every answer: no 5xx (``not_a_server_error``), the answer matches
the documented schema (``response_schema_conformance``) and its status is one the
document lists (``status_code_conformance``). The operations that end the admin's own
access (revoking a token or a session, signing out, a password reset or change, disabling
an account) run last; the admin signs in again whenever its token was ended.

Reproducible: Hypothesis is derandomized (the seed comes from the test), nothing is kept
between runs (no example database). A failure prints the operation, the check and the
curl command that reproduces it.
"""
from __future__ import annotations

import collections
import time

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (response_schema_conformance,
                                               status_code_conformance)

from queue_server.dossiers import ids
from support.server import ServerProcess

ADMIN_PASSWORD = "fuzz-admin-password"
INSURED = "12345678" + ids.luhn_digit("12345678")  # a valid insured number
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
POSITIVE_EXAMPLES = 20  # per operation, role and mode: ~30 per operation and role in all
NEGATIVE_EXAMPLES = 10
# these end the caller's own access when they hit the admin (token id or user id 1)
DESTRUCTIVE = {"revoke_device", "admin_reset_password", "admin_disable_user", "logout",
               "admin_revoke_session", "change_password"}


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    server = ServerProcess(f"sqlite:///{tmp / 'tabour.sqlite'}", tmp / "server.log",
                           ADMIN_PASSWORD, TABOUR_VAR_DIR=str(tmp / "var"))
    server.start()
    _seed(server)
    yield server
    server.stop()


def _seed(server) -> None:
    """Something for the fuzzer to find: an open counter, tickets, a dossier."""
    h = {"Authorization": "Bearer " + server.token()}
    api = server.url + "/api/v1"
    for path, body in [("/counters/1/open", {}), ("/tickets", {"service": "A"}),
                       ("/tickets", {"service": "E"}), ("/counters/1/call-next", {}),
                       ("/dossiers", {"type": "sickness", "idempotency_key": "fuzz-seed-1",
                                      "insured_number": INSURED})]:
        r = requests.post(api + path, json=body, headers=h, timeout=10)
        assert r.status_code < 300, (path, r.text)


@pytest.fixture(scope="module")
def admin_browser(fuzz_server):
    """The admin's sign-ins, with the device cookie of a first one made before any fuzzing,
    as a staff browser keeps it: the fuzzer's wrong passwords lock the address out, not
    this (README "Limits on anonymous clients")."""
    session = requests.Session()
    r = session.post(fuzz_server.url + "/api/v1/auth/token", timeout=30,
                     json={"username": "admin", "password": ADMIN_PASSWORD})
    assert r.status_code == 200, r.text
    return session


class Fuzz:
    """Runs the operations one by one; collects failures instead of stopping at the first."""

    def __init__(self, server, signin: requests.Session | None):
        self.server = server
        self.password = ADMIN_PASSWORD if signin is not None else None
        self.headers: dict = {}
        self.signin = signin
        if signin is not None:
            self.sign_in()
        self.schema = schemathesis.openapi.from_url(server.url + "/api/v1/openapi.json")
        self.failures: dict[tuple, str] = {}
        self.statuses: collections.Counter = collections.Counter()
        self.calls = 0
        self.skipped: list[str] = []
        self.timings: list[tuple] = []
        self.by_operation: dict = collections.defaultdict(collections.Counter)
        self.session = requests.Session()

    def sign_in(self) -> None:
        """The admin's token (again, after an operation revoked it or reset the password).
        Through the session that signed in before any fuzzing (``admin_browser``)."""
        r = self.signin.post(self.server.url + "/api/v1/auth/token", timeout=30,
                             json={"username": "admin", "password": self.password})
        assert r.status_code == 200, r.text
        self.headers = {"Authorization": "Bearer " + r.json()["token"]}

    def run(self, select) -> "Fuzz":
        for result in self.schema.get_all_operations():
            op = result.ok()
            if not select(op.definition.raw["operationId"]):
                continue
            # without a token an operation that needs one answers 401 before it reads
            # anything: fewer examples show it (and keep the run short)
            share = 2 if not self.password and op.definition.raw["security"] else 1
            for mode, n in ((GenerationMode.POSITIVE, POSITIVE_EXAMPLES // share),
                            (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES // share)):
                began, calls = time.monotonic(), self.calls
                self._operation(op, mode, n)
                self.timings.append((time.monotonic() - began, self.calls - calls, op.label,
                                     mode.value))
        return self

    def _operation(self, op, mode, n) -> None:
        @settings(max_examples=n, derandomize=True, database=None, deadline=None,
                  phases=[Phase.explicit, Phase.generate], print_blob=False,
                  suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy(generation_mode=mode), real=st.booleans())
        def one(case, real):
            if real and isinstance(case.body, dict) and "insured_number" in case.body:
                # random text is almost never a dossier type, random digits almost never
                # pass the check digit: half the time a real type and number, so the
                # fuzzer gets past them to what the operation does next
                case.body["insured_number"] = INSURED
                case.body["type"] = "sickness"
            headers = dict(self.headers)
            response = case.call(headers=headers, session=self.session, timeout=30)
            self.calls += 1
            self.statuses[response.status_code] += 1
            self.by_operation[op.label][response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except FailureGroup as exc:
                for failure in exc.exceptions:
                    key = (op.label, type(failure).__name__, response.status_code,
                           getattr(failure, "title", ""))
                    self.failures.setdefault(key, f"{op.label} ({mode.value}): {exc}")
            if self.password is None:
                return
            if (op.definition.raw["operationId"] == "admin_reset_password"
                    and response.status_code == 200 and case.path_parameters["user_id"] == 1):
                self.password = case.body["password"]  # the admin's own: keep fuzzing as it
            if response.status_code == 401 and response.request.headers.get("Authorization"):
                # the admin's own session was revoked: a new one (a negative case may also
                # leave the token out on purpose: that one is still valid)
                self.sign_in()

        try:
            one()
        except Unsatisfiable:
            # nothing of this operation can be made invalid (no parameters, no body)
            assert mode is GenerationMode.NEGATIVE, op.label
            self.skipped.append(op.label)

    def report(self, what: str, started: float) -> str:
        return (f"{what}: {self.calls} requests in {time.monotonic() - started:.0f}s, "
                f"statuses {dict(sorted(self.statuses.items()))}, "
                f"{len(self.failures)} distinct failures")


def _check(fuzz: Fuzz, what: str, started: float) -> None:
    summary = fuzz.report(what, started)
    print(summary)
    for t in sorted(fuzz.timings, reverse=True)[:8]:
        print("  slowest: %.1fs %d requests %s %s" % t)
    assert not fuzz.failures, summary + "\n\n" + "\n\n".join(
        text[:3000] for text in fuzz.failures.values())


def test_every_operation_as_admin(fuzz_server, admin_browser):
    started = time.monotonic()
    fuzz = Fuzz(fuzz_server, admin_browser).run(lambda op_id: op_id not in DESTRUCTIVE)
    _check(fuzz, "admin", started)


def test_every_operation_without_a_token(fuzz_server, admin_browser):
    started = time.monotonic()
    fuzz = Fuzz(fuzz_server, None).run(lambda op_id: True)
    _check(fuzz, "no token", started)
    # without a token nothing but the public operations answers 2xx
    assert fuzz.statuses[401] > 0


def test_operations_that_end_access_as_admin_last(fuzz_server, admin_browser):
    started = time.monotonic()
    fuzz = Fuzz(fuzz_server, admin_browser).run(lambda op_id: op_id in DESTRUCTIVE)
    _check(fuzz, "admin, destructive", started)
    # the admin was signed in again after each of its own sessions ended: the operations
    # were fuzzed, not refused with 401 for lack of a token
    assert fuzz.statuses[401] < fuzz.calls / 4, fuzz.statuses
