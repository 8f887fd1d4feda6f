"""JSON errors: a code, its parameters and the message in the caller's language.

Every refusal is ``{"error": {"code", "params", "message"}}``. Pages send their
language (``Accept-Language`` or ``?lang=``) and show ``message``; programs branch
on ``code``. Without a language the message is English.
"""
from __future__ import annotations

import logging

from flask import jsonify, request
from flask_babel import force_locale, gettext
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError

from ..auth import AuthError
from ..engine.errors import DomainError, InvalidTransition, NotAllowed, NotFound
from ..engine.messages import N_, register, render
from ..i18n import LANGUAGES  # Tamazight included: it falls back to Arabic

log = logging.getLogger("tabour.api")

register({
    "bad_request": N_("The request is not valid: %(problem)s"),
    "idempotency_key": N_("The Idempotency-Key must be 8 to 80 characters: send one random "
                          "key per tap."),
    "json_content_type": N_("Send the body as JSON with the header Content-Type: "
                            "application/json."),
    "malformed_json": N_("The body is not valid JSON: check quotes, commas and braces."),
    "json_object": N_("The body must be a JSON object ({...})."),
    "invalid_body": N_("The request is not valid: %(text)s."),
    "invalid_message": N_("The message is not valid: %(text)s."),
    "route_not_found": N_("There is nothing at this address: see /api/v1/openapi.json for "
                          "the routes."),
    "method_not_allowed": N_("This address does not accept that method."),
    "internal_error": N_("Something went wrong on the server; nothing was changed. Try again, "
                         "and tell IT if it repeats."),
    "counter_of_another_agent": N_("Counter %(counter)s is opened by another agent: pick your "
                                   "own counter or ask them to close it."),
    "job_status_filter": N_("status is one of %(choices)s."),
    # the database server is down, restarting or unreachable; whether the request's
    # transaction committed can be unknown when the cut came during the commit: a retry
    # with the same Idempotency-Key is safe either way
    "database_unavailable": N_("The server cannot reach its database right now. Try again "
                               "in a few seconds (a ticket retried with the same "
                               "Idempotency-Key is never issued twice). If this lasts more "
                               "than a minute, tell IT: the database server is down or "
                               "unreachable."),
})


class ApiError(DomainError):
    """An error of the HTTP edge itself (a malformed request), with its status."""

    def __init__(self, status: int, code: str, /, **params):
        self.status = status
        super().__init__(code, **params)


STATUS = {NotFound: 404, InvalidTransition: 409, NotAllowed: 409}


def status_of(e: DomainError) -> int:
    if isinstance(e, (ApiError, AuthError)):
        return e.status
    if e.kind == "too_many_attempts":
        return 429
    if e.kind == "busy":
        return 503
    if e.kind == "forbidden":  # a rule about the thing changed (commands/admin.py)
        return 403
    if e.kind in ("invalid_input", "bad_request"):
        return 400
    return next((v for k, v in STATUS.items() if isinstance(e, k)), 409)


def request_language() -> str:
    lang = request.args.get("lang")
    if lang in LANGUAGES:
        return lang
    header = request.headers.get("Accept-Language")
    if header:
        best = request.accept_languages.best_match(LANGUAGES)
        if best:
            return best
    return "en"


def localized(e: DomainError, lang: str | None = None) -> str:
    lang = lang or request_language()
    with force_locale(lang):
        return e.render(gettext, lang)


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
    return text, problems


def validation_error(exc: ValidationError, code: str = "invalid_body") -> ApiError:
    text, problems = describe_validation(exc)
    return ApiError(400, code, text=text, problems=problems)


def kind_of(e: DomainError) -> str:
    if isinstance(e, AuthError):
        return "unauthorized" if e.status == 401 else "forbidden"
    if isinstance(e, ApiError):
        return {400: "bad_request", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "conflict", 503: "unavailable",
                413: "payload_too_large",
                429: "too_many_requests", 500: "internal_error"}.get(e.status, "error")
    return e.kind


def error_body(e: DomainError, lang: str | None = None) -> dict:
    body = {"code": e.code, "kind": kind_of(e), "params": _plain(e.params),
            "message": localized(e, lang)}
    if e.params:
        body["details"] = body["params"]
    return {"error": body}


def _plain(params: dict) -> dict:
    """Parameters as JSON (sets become sorted lists)."""
    out = {}
    for k, v in params.items():
        if isinstance(v, (set, frozenset)):
            v = sorted(v)
        elif isinstance(v, tuple):
            v = list(v)
        out[k] = v
    return out


def install(app) -> None:
    """The app's error handlers: every refusal in the same shape."""
    @app.errorhandler(DomainError)
    def _domain(e: DomainError):
        resp = jsonify(error_body(e))
        resp.status_code = status_of(e)
        if resp.status_code in (429, 503) and hasattr(e, "retry_after_s"):
            resp.headers["Retry-After"] = str(e.retry_after_s)
        return resp

    @app.errorhandler(DBAPIError)
    def _database(e: DBAPIError):
        if not (isinstance(e, OperationalError) or e.connection_invalidated):
            log.error("database error", exc_info=e)  # a bug, not an outage
            return jsonify(error_body(ApiError(500, "internal_error"))), 500
        log.warning("database unavailable: %s", str(e.orig or e).splitlines()[0])
        resp = jsonify(error_body(ApiError(503, "database_unavailable")))
        resp.status_code = 503
        resp.headers["Retry-After"] = "5"
        return resp

    @app.errorhandler(404)
    def _nf(e):
        return jsonify(error_body(ApiError(404, "route_not_found"))), 404

    @app.errorhandler(405)
    def _method(e):
        return jsonify(error_body(ApiError(405, "method_not_allowed"))), 405

    @app.errorhandler(500)
    def _crash(e):
        return jsonify(error_body(ApiError(500, "internal_error"))), 500

