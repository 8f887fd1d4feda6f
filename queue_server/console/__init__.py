"""The counter console (/console/): staff sign in, pick their counter, and work the queue.

One page: sign-in form (POST /api/v1/auth/token; the token lives in sessionStorage,
gone when the tab closes), counter picker (remembered per workstation in
localStorage), then the console, live over Socket.IO (view "counter"). Every action
is a REST call (/api/v1/counters/<n>/...): the server decides, the page only shows
what the snapshot and the deltas say, so two tabs on one counter agree.
"""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static", static_url_path="/static")


def _strings() -> dict:
    """Strings the script needs, in the page's language."""
    return {
        "wrong_login": gettext("Wrong username or password."),
        "no_ticket": gettext("No ticket at this counter."),
        "nobody_waiting": gettext("Nobody is waiting for this counter."),
        "state_open": gettext("Counter open"),
        "state_calling": gettext("Ticket called"),
        "state_serving": gettext("Serving"),
        "state_paused": gettext("On a break"),
        "state_closed": gettext("Closed"),
        "status_called": gettext("Called"),
        "status_serving": gettext("Being served"),
        "minutes": gettext("min"),
        "waiting": gettext("waiting"),
        "oldest": gettext("oldest"),
        "reconnecting": gettext("Reconnecting…"),
        "online": gettext("Live"),
        "done": gettext("Done"),
        "service": gettext("Service"),
        "counter": gettext("Counter"),
        "outcome_served": gettext("Served"),
        "outcome_dossier_received": gettext("Dossier received"),
        "outcome_information_given": gettext("Information given"),
        "outcome_redirected": gettext("Redirected"),
        "outcome_incomplete_dossier": gettext("Incomplete dossier"),
        "session_expired": gettext("Your session has expired: sign in again."),
        "not_sent": gettext("The server cannot be reached: “{action}” was not sent. It is "
                            "kept and sent as soon as the server is back."),
        "sent_later": gettext("The server is back: “{action}” was sent."),
        "dropped": gettext("“{action}” was not sent: the ticket changed while the server was "
                           "away."),
        "offline": gettext("The server cannot be reached: reconnecting…"),
        "no_target": gettext("Nowhere to transfer this ticket right now: no other counter "
                             "serving its service is open."),
    }


@bp.get("/")
def page():
    return render_template("console/index.html", strings=_strings())
