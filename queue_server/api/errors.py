"""JSON errors with a message a person can act on and the right status code."""
from __future__ import annotations

import logging

from flask import jsonify
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError

from ..auth import AuthError
from ..engine.errors import DomainError, InvalidTransition, NotAllowed, NotFound


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **details):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def error_body(code: str, message: str, **details) -> dict:
    body = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    return body


def describe_validation(exc: ValidationError) -> tuple[str, list]:
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "body"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "is not a field this request accepts"
        elif err["type"] == "missing":
            msg = "is required"
        problems.append({"field": where, "problem": msg})
    text = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
    return f"The request is not valid: {text}.", problems


STATUS = {NotFound: 404, InvalidTransition: 409, NotAllowed: 409}

log = logging.getLogger("tabour.api")

# The database server is down, restarting or unreachable (a refused connection, a
# connection cut mid-request). Whether the request's transaction committed can be
# unknown when the cut came during the commit: a retry with the same
# Idempotency-Key is safe either way.
DATABASE_UNAVAILABLE = ("The server cannot reach its database right now. Try again in a few "
                        "seconds (a ticket retried with the same Idempotency-Key is never "
                        "issued twice). If this lasts more than a minute, tell IT: the "
                        "database server is down or unreachable.")


def register(app) -> None:
    @app.errorhandler(ApiError)
    def _api(e: ApiError):
        return jsonify(error_body(e.code, e.message, **e.details)), e.status

    @app.errorhandler(AuthError)
    def _auth(e: AuthError):
        code = "unauthorized" if e.status == 401 else "forbidden"
        return jsonify(error_body(code, e.message)), e.status

    @app.errorhandler(DomainError)
    def _domain(e: DomainError):
        status = next((v for k, v in STATUS.items() if isinstance(e, k)), 409)
        return jsonify(error_body(e.code, e.message, **e.details)), status

    @app.errorhandler(DBAPIError)
    def _database(e: DBAPIError):
        if not (isinstance(e, OperationalError) or e.connection_invalidated):
            log.error("database error", exc_info=e)  # a bug, not an outage
            return _crash(e)
        log.warning("database unavailable: %s", str(e.orig or e).splitlines()[0])
        body = error_body("database_unavailable", DATABASE_UNAVAILABLE)
        return jsonify(body), 503, {"Retry-After": "5"}

    @app.errorhandler(404)
    def _nf(e):
        return jsonify(error_body("not_found", "There is nothing at this address: see "
                                               "/api/v1/openapi.json for the routes.")), 404

    @app.errorhandler(405)
    def _method(e):
        return jsonify(error_body("method_not_allowed",
                                  "This address does not accept that method.")), 405

    @app.errorhandler(500)
    def _crash(e):
        return jsonify(error_body("internal_error", "Something went wrong on the server; "
                                  "nothing was changed. Try again, and tell IT if it repeats.")), 500
