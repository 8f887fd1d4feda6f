"""Declare a route once: its auth, its body schema and its OpenAPI entry.

A small layer over Flask and pydantic: every route says which permission it
needs, which body and query it takes and what it answers; the wrapper
authenticates, checks the role, parses and validates JSON, and the same
declaration feeds /api/v1/openapi.json (complete enough for a fuzzer: every status
an operation can answer, a schema for every answer, bounds on every integer).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from flask import current_app, g, request
from pydantic import BaseModel, ValidationError

from ..auth import AuthError, Principal
from ..commands.writer import caller_gives_up
from ..limits import INT_MAX, INT_MIN, MAX_DEPTH, check_values, json_depth
from .errors import ApiError, validation_error

# statuses every operation of a kind may answer, with what they mean
STANDARD = {
    400: "The request is not valid: the body, a query parameter or a path parameter "
         "(the error names the field)",
    401: "No token, or an invalid, expired or revoked one",
    403: "The caller's role may not do this, or it concerns another branch",
    404: "Nothing has the number or the name given in the path",
    413: "The body is larger than the server accepts",
    429: "Too many attempts from this client: wait for the time in Retry-After",
    503: "The database is unreachable, or the server was too busy to start the request "
         "within 10 s (nothing was done): retry in a few seconds (Retry-After)",
}


@dataclass
class Media:
    """A non-JSON answer (a CSV file, a workbook): its media type and schema."""
    media_type: str
    schema: dict = field(default_factory=lambda: {"type": "string"})


@dataclass
class Operation:
    path: str
    method: str
    summary: str
    permission: str | None
    body: type[BaseModel] | None
    responses: dict = field(default_factory=dict)
    tag: str = "queue"
    operation_id: str = ""
    out: dict = field(default_factory=dict)  # status -> pydantic model | Media | JSON schema
    query: type[BaseModel] | None = None
    headers: list = field(default_factory=list)  # OpenAPI header parameters
    limited: bool = False  # rate limited per client: may answer 429
    bearer: bool = False  # the view checks a token itself (no permission declared here)

    @property
    def path_params(self) -> list[tuple[str | None, str]]:
        return [(conv or None, name) for conv, name in re.findall(r"<(?:(\w+):)?(\w+)>",
                                                                  self.path)]

    def statuses(self) -> dict[int, str]:
        """Every status this operation may answer, with its description."""
        found: dict[int, str] = {}
        for status, text in (self.responses or {200: "OK"}).items():
            found[int(status)] = text
        standard = [400, 413, 503]
        if self.permission or self.bearer:
            standard += [401, 403]
        if self.path_params:
            standard.append(404)
        if self.limited:
            standard.append(429)
        for status in standard:
            found.setdefault(status, STANDARD[status])
        return dict(sorted(found.items()))


OPERATIONS: list[Operation] = []


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def _principal(permission: str) -> Principal:
    principal = current_app.extensions["tabour"].auth.authenticate(bearer_token())
    if not principal.can(permission):
        raise AuthError("role_forbidden", 403, role=principal.role, permission=permission)
    g.principal = principal
    return principal


MAX_INFLATED = 64 * 1024 * 1024  # a gzip body may not inflate past this


def _gunzip(raw: bytes) -> bytes:
    import zlib
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflate.decompress(raw, MAX_INFLATED)
    except zlib.error:
        raise ApiError(400, "malformed_json") from None
    if inflate.unconsumed_tail or not inflate.eof:
        raise ApiError(400, "malformed_json")
    return out


def _body(model: type[BaseModel]):
    raw = request.get_data(cache=True)
    if request.headers.get("Content-Encoding", "").lower() == "gzip":
        # a site's sync batches travel compressed (README "Sites that work offline")
        import json
        try:
            data = json.loads(_gunzip(raw)) if raw else {}
        except ValueError:
            raise ApiError(400, "malformed_json") from None
    elif not raw.strip():
        data = {}
    else:
        if not request.is_json:
            raise ApiError(400, "json_content_type")
        if json_depth(raw) > MAX_DEPTH:
            raise ApiError(400, "json_too_deep", max=MAX_DEPTH)
        data = request.get_json(silent=True)
        if data is None:
            raise ApiError(400, "malformed_json")
    if not isinstance(data, dict):
        raise ApiError(400, "json_object")
    check_values(data)
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None
    check_values(parsed.model_dump())  # "999..." coerced from a string, say
    return parsed


def route(bp, path: str, method: str, summary: str, permission: str | None,
          body: type[BaseModel] | None = None, responses: dict | None = None,
          tag: str = "queue", *, out=None, query: type[BaseModel] | None = None,
          headers: list | None = None, limited: bool = False, bearer: bool = False):
    """Register a view on ``bp``; the view gets (principal, body, **url_args).

    ``out`` is what a success answers: a pydantic model (every 2xx but 204), or a dict
    status -> model, ``Media`` or JSON schema. ``query`` documents the query parameters
    (the view still reads them), ``headers`` extra header parameters, ``limited`` a
    per-client rate limit (429), ``bearer`` a token the view checks itself."""
    def wrap(fn):
        @functools.wraps(fn)
        def view(**kwargs):
            principal = _principal(permission) if permission else None
            parsed = _body(body) if body is not None else None
            with caller_gives_up():  # its commands are refused unrun after a long queue
                return fn(principal, parsed, **kwargs)
        bp.add_url_rule(path, endpoint=fn.__name__, view_func=view, methods=[method])
        statuses = responses or {200: "OK"}
        if isinstance(out, dict):
            outs = dict(out)
        elif out is not None:
            outs = {s: out for s in statuses if 200 <= int(s) < 300 and int(s) != 204}
        else:
            outs = {}
        OPERATIONS.append(Operation(path, method.lower(), summary, permission, body,
                                    statuses, tag, operation_id=fn.__name__, out=outs,
                                    query=query, headers=list(headers or []),
                                    limited=limited, bearer=bearer))
        return fn
    return wrap


# --- the document ---------------------------------------------------------------------------

def _model_schema(model: type[BaseModel], schemas: dict, mode: str) -> dict:
    """``model`` in components (its nested models too); a $ref to it."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode,
                                     by_alias=True)
    for name, sub in schema.pop("$defs", {}).items():
        schemas[name] = sub
    schemas[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _content(spec, schemas: dict) -> dict:
    if isinstance(spec, Media):
        return {spec.media_type: {"schema": spec.schema}}
    if isinstance(spec, type) and issubclass(spec, BaseModel):
        return {"application/json": {"schema": _model_schema(spec, schemas, "serialization")}}
    return {"application/json": {"schema": spec}}


def _query_parameters(model: type[BaseModel]) -> list[dict]:
    schema = model.model_json_schema(by_alias=True)
    required = set(schema.get("required", []))
    params = []
    for name, sub in schema.get("properties", {}).items():
        sub = {k: v for k, v in sub.items() if k not in ("title", "default")}
        description = sub.pop("description", None)
        # a query parameter is text: "null" cannot be sent, only left out
        if "anyOf" in sub:
            kinds = [s for s in sub["anyOf"] if s.get("type") != "null"]
            sub = kinds[0] if len(kinds) == 1 else {"anyOf": kinds}
        param = {"name": name, "in": "query", "required": name in required, "schema": sub}
        if description:
            param["description"] = description
        params.append(param)
    return params


def _bound_integers(node) -> None:
    """Every integer in the document gets the bounds the server enforces (the database's
    INTEGER, queue_server/limits.py)."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            node.setdefault("minimum", INT_MIN)
            node.setdefault("maximum", INT_MAX)
        for v in node.values():
            _bound_integers(v)
    elif isinstance(node, list):
        for v in node:
            _bound_integers(v)


def openapi_document(prefix: str) -> dict:
    paths: dict = {}
    schemas: dict = {}
    for op in OPERATIONS:
        oa_path = prefix + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", op.path)
        entry: dict = {"operationId": op.operation_id, "summary": op.summary,
                       "tags": [op.tag], "responses": {}}
        params = []
        for conv, name in op.path_params:
            schema = ({"type": "integer", "minimum": 1, "maximum": INT_MAX} if conv == "int"
                      else {"type": "string", "minLength": 1, "maxLength": 80})
            params.append({"name": name, "in": "path", "required": True, "schema": schema})
        if op.query is not None:
            params += _query_parameters(op.query)
        params += op.headers
        if params:
            entry["parameters"] = params
        if op.permission:
            entry["security"] = [{"bearer": []}]
            entry["description"] = f"Needs the permission `{op.permission}`."
        elif op.bearer:
            entry["security"] = [{"bearer": []}]
        else:
            entry["security"] = []
        if op.body is not None:
            ref = _model_schema(op.body, schemas, "validation")
            required = bool(schemas[op.body.__name__].get("required"))
            entry["requestBody"] = {"required": required,
                                    "content": {"application/json": {"schema": ref}}}
        for status, text in op.statuses().items():
            answer: dict = {"description": text}
            if status >= 400:
                answer["content"] = _error_content()
            elif status in op.out:
                answer["content"] = _content(op.out[status], schemas)
            entry["responses"][str(status)] = answer
        paths.setdefault(oa_path, {})[op.method] = entry
    schemas["Error"] = {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "kind": {"type": "string"},
                       "message": {"type": "string"},
                       "params": {"type": "object"}, "details": {"type": "object"}}}}}
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "Tabour queue API", "version": "1",
                 "description": "Queue management for social-security branches. Every "
                                "refusal is {\"error\": {\"code\", \"kind\", \"params\", "
                                "\"message\"}}; no input answers 500."},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"}}},
    }
    _bound_integers(doc)
    return doc


def _error_content() -> dict:
    return {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
