"""Strings the dashboard's pages show from their scripts, in the page's language."""
from __future__ import annotations

from flask_babel import gettext as _


def page_strings() -> dict:
    return {
        "wrong_login": _("Wrong username or password."),
        "session_expired": _("Your session has expired: sign in again."),
        "not_manager": _("Reports are for managers and administrators: sign in with such an "
                         "account."),
        "loading": _("Loading…"),
        "all_services": _("All services"),
        "arrivals_per_day": _("Arrivals per day"),
        "mean_wait": _("Mean wait (min)"),
        "counters_open": _("Counters open (mean)"),
        "minutes": _("min"),
        "wait_minutes": _("Wait (minutes)"),
        "tickets": _("Tickets"),
        "target": _("Target"),
        "within_target": _("within target"),
        "hour": _("Hour"),
        "weekday": _("Weekday"),
        "exact": _("Percentiles are exact (nearest rank)."),
        "histogram": _("Over 31 days, percentiles come from one-minute histograms (upper "
                       "edge of the minute)."),
        "printed_missing": _("Printed estimate vs actual wait: missing (no ticket in this "
                             "range has a printed estimate)."),
        "printed_ok": _("Printed estimate vs actual wait: MAE {mae} min, bias {bias} min "
                        "over {n} tickets."),
        "incomplete_range": _("This range includes today or a day still open: its figures "
                              "will still change."),
        "no_data": _("No ticket in this range."),
        "exported": _("Downloaded."),
        "service_level": _("Service level"),
        "arrivals": _("Arrivals"),
        "served": _("Served"),
    }


def live_strings() -> dict:
    """The live dashboard's script (live.js)."""
    return {
        "wrong_login": _("Wrong username or password."),
        "session_expired": _("Your session has expired: sign in again."),
        "not_manager": _("The dashboard is for managers and administrators: sign in with such "
                         "an account."),
        "online": _("Live"),
        "reconnecting": _("Reconnecting…"),
        "closed": _("Closed"),
        "no_counter": _("No counter open"),
        "over_target": _("Over target"),
        "state_open": _("Available"),
        "state_serving": _("Serving"),
        "state_paused": _("On a break"),
        "state_closed": _("Closed"),
        "status_called": _("called"),
        "status_serving": _("being served"),
        "for_how_long": _("for {duration}"),
        "minutes_n": _("{n} min"),
        "hours_n": _("{h} h {m}"),
        "served_today": _("Served today"),
        "mean_service": _("Mean service (min)"),
        "arrivals_by_hour": _("Arrivals by hour"),
        "arrivals": _("Arrivals"),
        "mean_wait": _("Mean wait (min)"),
        "acknowledge": _("Acknowledge"),
        "acknowledged_by": _("Acknowledged by {who}"),
        "today_as_of": _("Today's figures as of {time}, computed like the reports."),
        "none_yet": _("None yet."),
        "outcome_served": _("Served"),
        "outcome_dossier_received": _("Dossier received"),
        "outcome_information_given": _("Information given"),
        "outcome_redirected": _("Redirected"),
        "outcome_incomplete_dossier": _("Incomplete dossier"),
    }
