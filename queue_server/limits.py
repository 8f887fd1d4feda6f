"""What any request may carry, checked before anything reads it.

- A body of at most ``MAX_BODY`` bytes (413 with a code and a message): the largest
  legitimate one is an opening-hours schedule with 400 special days, each with six
  intervals and an Arabic note sent as \\u escapes, about 280 KB (test_bad_input.py
  builds it); a dossier deposit is under 4 KB.
- JSON nested at most ``MAX_DEPTH`` levels (400): no body of the API needs more than 5.
- Integers that fit the database's INTEGER columns (32 bits, PostgreSQL's ``integer``):
  a larger one in a path or a body is a 400, not an overflow deep in a driver (a 500).
"""
from __future__ import annotations

from flask import jsonify, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from .engine.messages import N_, register

MAX_BODY = 512 * 1024
MAX_DEPTH = 32
INT_MAX = 2**31 - 1  # the database's INTEGER (ids, counts, minutes)
INT_MIN = -(2**31)

register({
    "body_too_large": N_("The request body is too large: at most %(max_kb)s KB is accepted. "
                         "Send less (no file uploads go through this API)."),
    "json_too_deep": N_("The JSON body is nested too deeply: at most %(max)s levels are "
                        "accepted."),
    "nul_character": N_("The request contains a NUL character (a zero byte): remove it."),
    "integer_out_of_range": N_("The number '%(value)s' is out of range: whole numbers from "
                               "%(min)s to %(max)s are accepted."),
})


class OutOfRange(BadRequest):
    """A path integer beyond the database's INTEGER: raised while routing, answered as
    a 400."""

    def __init__(self, value: str):
        super().__init__()
        self.value = value


class DbIntConverter(IntegerConverter):
    """``<int:...>`` as before, but a number past the database's INTEGER is a 400 (not
    a driver's overflow, a 500)."""

    def to_python(self, value: str) -> int:
        n = super().to_python(value)
        if not INT_MIN <= n <= INT_MAX:
            raise OutOfRange(value[:40])
        return n


def json_depth(raw: bytes) -> int:
    """The deepest nesting of objects and arrays in ``raw`` (strings skipped); stops
    counting past MAX_DEPTH + 1."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return min(MAX_DEPTH, raw.count(b"[") + raw.count(b"{"))  # cannot be deeper
    depth = deepest = 0
    in_str = escaped = False
    for b in raw:
        if in_str:
            if escaped:
                escaped = False
            elif b == 0x5C:  # backslash
                escaped = True
            elif b == 0x22:
                in_str = False
        elif b == 0x22:
            in_str = True
        elif b in (0x5B, 0x7B):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif b in (0x5D, 0x7D):
            depth -= 1
    return deepest


def check_values(value) -> None:
    """Raise a 400 for the first integer past the database's INTEGER or the first string
    with a NUL character (PostgreSQL's text refuses it) in a parsed JSON value."""
    from .api.errors import ApiError
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, bool):
            continue
        if isinstance(v, int):
            if not INT_MIN <= v <= INT_MAX:
                raise ApiError(400, "integer_out_of_range", value=str(v)[:40], min=INT_MIN,
                               max=INT_MAX)
        elif isinstance(v, str):
            if "\x00" in v:
                raise ApiError(400, "nul_character")
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend(v)


def install(app) -> None:
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY  # a chunked body is cut while read
    app.url_map.converters["int"] = DbIntConverter

    from .api.errors import ApiError, error_body

    @app.before_request
    def _declared_size():
        # refused from its Content-Length, before a byte of the body is read
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise RequestEntityTooLarge()
        if "\x00" in request.path or b"%00" in request.query_string \
                or any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
            raise ApiError(400, "nul_character")

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_e):
        resp = jsonify(error_body(ApiError(413, "body_too_large", max_kb=MAX_BODY // 1024)))
        resp.status_code = 413
        resp.headers["Connection"] = "close"  # what is left of the body is not read
        return resp

    @app.errorhandler(OutOfRange)
    def _out_of_range(e: OutOfRange):
        return jsonify(error_body(ApiError(400, "integer_out_of_range", value=e.value,
                                           min=INT_MIN, max=INT_MAX))), 400
