"""Strings the supervisors' page shows from its script, in the page's language."""
from __future__ import annotations

from flask_babel import gettext as _


def strings() -> dict:
    return {
        "wrong_login": _("Wrong username or password."),
        "session_expired": _("Your session has expired: sign in again."),
        "not_supervisor": _("This page is for supervisors: sign in with a supervisor's "
                            "account."),
        "online": _("Live"),
        "reconnecting": _("Reconnecting…"),
        "national": _("National"),
        "no_region": _("No region"),
        "no_branch": _("No branch in your scope."),
        "of_target": _("{pct} of target"),
        "open_dashboard": _("Open the dashboard of {branch}"),
    }
