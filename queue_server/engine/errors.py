"""Domain errors. Each carries a message a person at a counter can act on."""


class DomainError(Exception):
    """Base of every error the engine raises."""

    code = "domain_error"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidTransition(DomainError):
    """The ticket or counter is not in a state that allows this action."""

    code = "invalid_transition"


class NotAllowed(DomainError):
    """The action is well-formed but the rules forbid it (wrong counter, wrong service)."""

    code = "not_allowed"


class NotFound(DomainError):
    code = "not_found"
