"""Domain errors: a code and its parameters (see messages.py for the words).

``raise NotAllowed("counter_closed", counter=1, ticket="A-001")``: the code says
what went wrong to a program, the parameters carry the facts, and ``message``
renders the English template (the edges render it in the user's language).
"""
from __future__ import annotations

from . import messages


class DomainError(Exception):
    """Base of every error the engine and the service layer raise.

    ``code`` names this refusal precisely (``counter_closed``); ``kind`` is its
    family (``not_allowed``, ``not_found``...), the same for every code of a class."""

    kind = "domain_error"
    code = "domain_error"

    def __init__(self, code: str | None = None, /, **params):
        if code is not None:
            if not messages.is_code(code):
                raise ValueError(f"unknown message code {code!r}: add it to a messages table")
            self.code = code
        self.params = params
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The English message (logs, tests, API clients that send no language)."""
        return messages.render(self.code, self.params)

    @property
    def details(self) -> dict:
        return self.params

    def render(self, gettext, lang: str | None = None) -> str:
        return messages.render(self.code, self.params, gettext, lang)


class InvalidTransition(DomainError):
    """The ticket or counter is not in a state that allows this action."""

    kind = code = "invalid_transition"


class NotAllowed(DomainError):
    """The action is well-formed but the rules forbid it (wrong counter, wrong service)."""

    kind = code = "not_allowed"


class NotFound(DomainError):
    kind = code = "not_found"


class Conflict(DomainError):
    """Someone else changed the same thing at the same moment: try again."""

    kind = code = "conflict"


class Busy(DomainError):
    """The server could not get to the command in time (it queued behind others for
    longer than its caller waits): nothing was done; the same request again (with its
    Idempotency-Key) is safe. HTTP 503 with Retry-After."""

    kind = "busy"
    code = "server_busy"
    retry_after_s = 2
