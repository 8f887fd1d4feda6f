"""Declare a route once: its auth, its body schema and its OpenAPI entry.

A small layer over Flask and pydantic: every route says which permission it
needs and which body it takes; the wrapper authenticates, checks the role,
parses and validates JSON, and the same declaration feeds /api/v1/openapi.json.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from flask import current_app, g, request
from pydantic import BaseModel, ValidationError

from ..auth import AuthError, Principal
from ..limits import MAX_DEPTH, check_values, json_depth
from .errors import ApiError, validation_error


@dataclass
class Operation:
    path: str
    method: str
    summary: str
    permission: str | None
    body: type[BaseModel] | None
    responses: dict = field(default_factory=dict)
    tag: str = "queue"


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
          tag: str = "queue"):
    """Register a view on ``bp``; the view gets (principal, body, **url_args)."""
    def wrap(fn):
        @functools.wraps(fn)
        def view(**kwargs):
            principal = _principal(permission) if permission else None
            parsed = _body(body) if body is not None else None
            return fn(principal, parsed, **kwargs)
        bp.add_url_rule(path, endpoint=fn.__name__, view_func=view, methods=[method])
        OPERATIONS.append(Operation(path, method.lower(), summary, permission, body,
                                    responses or {}, tag))
        return fn
    return wrap


def openapi_document(prefix: str) -> dict:
    paths: dict = {}
    schemas: dict = {}
    for op in OPERATIONS:
        oa_path = prefix + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", op.path)
        entry = {"summary": op.summary, "tags": [op.tag], "responses": {}}
        params = re.findall(r"<(?:(\w+):)?(\w+)>", op.path)
        if params:
            entry["parameters"] = [{"name": name, "in": "path", "required": True,
                                    "schema": {"type": "integer" if conv == "int" else "string"}}
                                   for conv, name in params]
        if op.permission:
            entry["security"] = [{"bearer": []}]
            entry["description"] = f"Needs the permission `{op.permission}`."
        if op.body is not None:
            schema = op.body.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, sub in schema.pop("$defs", {}).items():
                schemas[name] = sub
            schemas[op.body.__name__] = schema
            entry["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{op.body.__name__}"}}}}
        for status, text in (op.responses or {200: "OK"}).items():
            entry["responses"][str(status)] = {"description": text}
        entry["responses"].setdefault("400", {"description": "The request is not valid",
                                              "content": _error_content()})
        if op.permission:
            entry["responses"]["401"] = {"description": "No or invalid token",
                                         "content": _error_content()}
            entry["responses"]["403"] = {"description": "The role may not do this",
                                         "content": _error_content()}
        paths.setdefault(oa_path, {})[op.method] = entry
    schemas["Error"] = {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "kind": {"type": "string"},
                       "message": {"type": "string"},
                       "params": {"type": "object"}, "details": {"type": "object"}}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Tabour queue API", "version": "1",
                 "description": "Queue management for social-security branches."},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"}}},
    }


def _error_content() -> dict:
    return {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
