"""Strings the reports page's script shows, in the page's language."""
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
