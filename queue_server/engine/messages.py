"""What every refusal says, as a code, parameters and an English template.

Errors travel as ``{"code": ..., "params": {...}}``; each edge (API, socket, page)
renders the template from the gettext catalogs in its user's language, so a
client branches on the code and never on the text. ``N_`` marks a template for
extraction (``make i18n-extract`` passes ``-k N_``); nothing here translates.

Parameter values that name a state, an action or something with names in
several languages are turned into words at render time:

- ``status`` (a ticket's), ``state`` (a counter's) and ``action`` become phrases
  from the tables below, translated in turn;
- a dict ``{"ar": ..., "fr": ..., "en": ...}`` (a service's names) gives the
  user's language;
- a list or tuple is joined with commas.
"""
from __future__ import annotations

from typing import Callable


def N_(text: str) -> str:
    """Mark ``text`` for the catalogs; it is translated where it is shown."""
    return text


MESSAGES: dict[str, str] = {
    # tickets and counters (engine)
    "ticket_state": N_("Cannot %(action)s ticket %(ticket)s: it %(status)s."),
    "counter_busy": N_("Counter %(counter)s is still handling a ticket: finish it, mark it "
                       "no-show, park or transfer it before calling the next one."),
    "counter_not_open": N_("Counter %(counter)s %(state)s: open it first."),
    "counter_busy_for_action": N_("Counter %(counter)s is handling a ticket: finish, park or "
                                  "transfer it before you %(action)s the counter."),
    "counter_state": N_("Cannot %(action)s counter %(counter)s: it %(state)s."),
    "service_closed": N_("The service %(service_name)s (%(service)s) is closed today: choose "
                         "another service or ask at reception."),
    "ticket_elsewhere": N_("Ticket %(ticket)s is not at counter %(counter)s: it belongs to "
                           "another counter."),
    "counter_wrong_service": N_("Counter %(counter)s does not serve the service of "
                                "%(ticket)s."),
    "ticket_sent_elsewhere": N_("Ticket %(ticket)s was sent to another counter."),
    "unknown_outcome": N_("Unknown outcome '%(outcome)s': use one of %(choices)s."),
    "transfer_target": N_("Say where to transfer the ticket: a service or a counter, not "
                          "both."),
    "transfer_service_closed": N_("The service %(service)s is closed: choose another one."),
    "transfer_same_counter": N_("The ticket is already at this counter."),
    "transfer_counter_wrong_service": N_("Counter %(counter)s does not serve the service of "
                                         "%(ticket)s: transfer it to a service instead."),
    "counter_closed": N_("Counter %(counter)s is closed: nobody would call %(ticket)s there. "
                         "Send it to a service instead."),
    "cancel_at_counter": N_("Ticket %(ticket)s is at a counter: cancel it from there."),
    "unknown_counter_action": N_("Unknown counter action '%(action_name)s'."),
    # the service layer
    "branch_not_found": N_("Branch %(branch)s does not exist."),
    "counter_not_found": N_("There is no counter %(counter)s in this branch."),
    "ticket_not_found": N_("There is no ticket %(ticket)s in this branch."),
    "service_not_found": N_("There is no service '%(service)s' in this branch."),
    "language_not_offered": N_("Language '%(language)s' is not offered in this branch: use "
                               "one of %(choices)s."),
    "ticket_changed": N_("Ticket %(ticket)s was changed by someone else at the same moment: "
                         "refresh and try again."),
    "counter_changed": N_("Counter %(counter)s was changed by someone else at the same "
                          "moment: refresh and try again."),
    "no_current_ticket": N_("Counter %(counter)s has no ticket right now: call the next "
                            "ticket first."),
    "queue_busy": N_("The queue is very busy right now: press call next again."),
    "server_busy": N_("The server is very busy: nothing was done. Try again in a moment."),
    "service_unstaffed": N_("%(service_name)s is closed right now (no counter is open for "
                            "it): choose another service or ask at reception."),
    "public_ticket_not_found": N_("There is no ticket at this address."),
    "service_without_counter": N_("No counter would serve %(service)s any more: give it a "
                                  "counter first."),
}

# the words the templates put in: a ticket's status, a counter's state, an action
TICKET_STATUS_WORDS: dict[str, str] = {
    "waiting": N_("is waiting"), "called": N_("has been called"),
    "serving": N_("is being served"), "parked": N_("is parked"),
    "done": N_("is already finished"), "no_show": N_("was marked no-show"),
    "cancelled": N_("was cancelled"),
}
COUNTER_STATE_WORDS: dict[str, str] = {
    "closed": N_("is closed"), "open": N_("is open"),
    "serving": N_("is handling a ticket"), "paused": N_("is on a break"),
}
ACTION_WORDS: dict[str, str] = {
    "call": N_("call"), "recall": N_("recall"), "start": N_("start serving"),
    "finish": N_("finish"), "no_show": N_("mark as no-show"), "transfer": N_("transfer"),
    "park": N_("park"), "return": N_("return to the queue"), "cancel": N_("cancel"),
    "open": N_("open"), "pause": N_("pause"), "close": N_("close"), "take": N_("call at"),
    "release": N_("free"),
}
_WORDS = {"status": TICKET_STATUS_WORDS, "state": COUNTER_STATE_WORDS,
          "action": ACTION_WORDS}


def words(key: str, table: dict[str, str]) -> None:
    """Another layer's word table for a parameter name (e.g. a dossier's status)."""
    _WORDS[key] = table

_catalogs: list[dict[str, str]] = [MESSAGES]


def register(messages: dict[str, str]) -> None:
    """Add another layer's templates (dossiers, the API) to the one table."""
    clash = set(messages) & {k for m in _catalogs for k in m}
    if clash:
        raise ValueError(f"message codes defined twice: {sorted(clash)}")
    _catalogs.append(messages)


def template(code: str) -> str | None:
    for table in _catalogs:
        if code in table:
            return table[code]
    return None


def is_code(code: object) -> bool:
    return isinstance(code, str) and template(code) is not None


RTL = frozenset({"ar", "ary", "arq", "fa", "he", "ur"})
FSI, PDI = "\u2068", "\u2069"  # first-strong isolate: a code or a number inside Arabic text


def _word(key: str, value, gettext: Callable[[str], str], lang: str | None):
    if isinstance(value, dict):
        return value.get(lang or "en") or value.get("en") or value.get("fr") \
            or next(iter(value.values()), "")
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return ", ".join(str(_word(key, v, gettext, lang)) for v in items)
    table = _WORDS.get(key)
    if table is not None and value in table:
        return gettext(table[value])
    if key in ("what", "first") and is_code(value):  # a nested message (a word, a sentence)
        return gettext(template(value))
    return value


def render(code: str, params: dict, gettext: Callable[[str], str] = lambda s: s,
           lang: str | None = None) -> str:
    """The message of ``code`` with its parameters, through ``gettext``."""
    text = template(code)
    if text is None:
        return str(params.get("message") or code)
    values = {k: _word(k, v, gettext, lang) for k, v in params.items()}
    if lang in RTL:  # "A-001" or "12" keep their own direction inside a right-to-left line
        values = {k: v if _translated(k, params[k]) else f"{FSI}{v}{PDI}"
                  for k, v in values.items()}
    try:
        return gettext(text) % values
    except (KeyError, ValueError, TypeError):  # a translation that lost a placeholder
        return text % values if _fits(text, values) else text


def _translated(key: str, value) -> bool:
    table = _WORDS.get(key)
    return (table is not None and value in table) or \
        (key in ("what", "first") and is_code(value))


def _fits(text: str, values: dict) -> bool:
    try:
        text % values
        return True
    except (KeyError, ValueError, TypeError):
        return False
