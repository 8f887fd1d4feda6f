"""The OpenAPI document is complete enough to fuzz: every route of /api/v1 is in it, with
every status it may answer, a schema for every answer and bounds on every integer.
(The fuzzer itself, against a real server: test_fuzz.py.)"""
from __future__ import annotations

import pytest

from support.app import make_app

# the operations that count attempts per client and refuse with 429
LIMITED = {("post", "/api/v1/auth/token"), ("post", "/api/v1/kiosk/pair"),
           ("post", "/api/v1/display/pair"), ("get", "/api/v1/public/dossiers/{tracking}")}
# routes of /api/v1 that are not operations: the document itself and its page
NOT_OPERATIONS = {"/api/v1/openapi.json", "/api/v1/docs"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from support.clock import FakeClock
    tmp = tmp_path_factory.mktemp("openapi")
    app = make_app(f"sqlite:///{tmp / 'tabour.sqlite'}", FakeClock())
    yield app
    app.extensions["tabour"].db.dispose()


@pytest.fixture(scope="module")
def doc(app):
    r = app.test_client().get("/api/v1/openapi.json")
    assert r.status_code == 200
    return r.get_json()


def operations(doc):
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            yield path, method, op


def resolve(doc, schema: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_the_document_is_valid_openapi(doc):
    from openapi_spec_validator import validate
    validate(doc)


def test_every_route_of_the_api_is_an_operation(app, doc):
    import re
    documented = {(m, p) for p, m, _op in operations(doc)}
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        if not path.startswith("/api/v1/") or path in NOT_OPERATIONS:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method.lower(), path) in documented, f"{method} {path} is not documented"


def test_operation_ids_are_unique(doc):
    ids = [op["operationId"] for _p, _m, op in operations(doc)]
    assert len(ids) == len(set(ids)) and all(ids)


def test_every_operation_lists_the_statuses_it_may_answer(doc):
    for path, method, op in operations(doc):
        statuses = {int(s) for s in op["responses"]}
        where = f"{method.upper()} {path}"
        assert any(200 <= s < 300 for s in statuses), where
        assert {400, 413, 503} <= statuses, where  # bad input, too large, database away
        if op["security"]:
            assert {401, 403} <= statuses, where
        if any(p["in"] == "path" for p in op.get("parameters", [])):
            assert 404 in statuses, where
        assert (429 in statuses) == ((method, path) in LIMITED), where
        assert 500 not in statuses, where  # no input answers 500


def test_every_answer_has_a_schema(doc):
    for path, method, op in operations(doc):
        for status, answer in op["responses"].items():
            where = f"{method.upper()} {path} {status}"
            if status == "204":
                assert "content" not in answer, where
                continue
            assert answer.get("content"), f"{where} has no schema"
            for media, content in answer["content"].items():
                schema = resolve(doc, content["schema"])
                assert schema, where
                if int(status) >= 400:
                    assert content["schema"] == {"$ref": "#/components/schemas/Error"}, where
                elif media == "application/json" and "anyOf" not in schema:
                    # a model that names its fields, not "any object"
                    assert schema.get("properties") and schema.get("required"), where


def test_every_integer_is_bounded(doc):
    found = []

    def walk(node, where):
        if isinstance(node, dict):
            if node.get("type") == "integer":
                found.append(where)
                assert "minimum" in node or "exclusiveMinimum" in node, where
                assert node.get("maximum", 2**63) < 2**63, where  # a driver's int64 at most
            for k, v in node.items():
                walk(v, f"{where}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}/{i}")

    walk(doc, "#")
    assert len(found) > 50  # path ids, bodies, query limits, answers


def test_known_shapes(doc):
    """A few answers, spelled out: what clients rely on."""
    tickets = doc["paths"]["/api/v1/tickets"]["post"]
    assert tickets["responses"]["201"]["content"]["application/json"]["schema"] == \
        {"$ref": "#/components/schemas/TicketOut"}
    assert {p["name"] for p in tickets["parameters"]} == {"Idempotency-Key"}
    assert set(doc["paths"]["/api/v1/counters/{number}/call-next"]["post"]["responses"]) >= \
        {"200", "204", "404", "409"}
    csv = doc["paths"]["/api/v1/reports/figures.csv"]["get"]
    assert "text/csv" in csv["responses"]["200"]["content"]
    assert {p["name"] for p in csv["parameters"]} >= {"from", "to", "grain"}
    limit = next(p for p in doc["paths"]["/api/v1/dossiers"]["get"]["parameters"]
                 if p["name"] == "limit")
    assert limit["schema"]["minimum"] == 1 and limit["schema"]["maximum"] == 200
    assert doc["paths"]["/api/v1/health"]["get"]["security"] == []


def test_integers_beyond_the_database_are_a_400_not_a_500(app):
    from queue_server.limits import INT_MAX as DB_MAX
    from support.api import Api
    from support.app import ADMIN_PASSWORD
    api = Api(app).login("admin", ADMIN_PASSWORD)
    huge = DB_MAX + 1
    for r in (api.get(f"/tickets/{huge}"), api.post(f"/counters/{huge}/open"),
              api.post("/counters/1/call", {"ticket_id": huge}),
              api.post("/counters/1/transfer", {"counter": huge}),
              api.put("/admin/display-zones", {"zones": [{"name": "z", "counters": [huge]}]})):
        assert r.status_code == 400, r.get_json()
    # the largest one the database holds is a plain "no such thing"
    assert api.get(f"/tickets/{DB_MAX}").status_code == 404
