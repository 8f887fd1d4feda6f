"""What the figures are called, in the request's language (Flask-Babel catalogs).

Used by the web edges only (the reports page, the XLSX export): the figures
themselves know no language.
"""
from __future__ import annotations

from flask_babel import gettext as _


def labels() -> dict[str, str]:
    """Column codes (and a few values) -> their label in the current locale."""
    return {
        # figures
        "arrivals": _("Arrivals"), "called": _("Called"), "served": _("Served"),
        "no_show": _("No-shows"), "no_show_rate": _("No-show rate"),
        "cancelled": _("Cancelled"), "cancellation_rate": _("Cancellation rate"),
        "cancelled_at_close": _("Cancelled at day close"),
        "transferred": _("Transferred"), "open": _("Still open"),
        "wait_mean_min": _("Mean wait (min)"), "wait_median_min": _("Median wait (min)"),
        "wait_p90_min": _("90th percentile wait (min)"),
        "service_mean_min": _("Mean service time (min)"),
        "service_p90_min": _("90th percentile service time (min)"),
        "sl_met": _("Called within target"), "sl_total": _("Counted for the service level"),
        "service_level": _("Service level"), "target_min": _("Target wait (min)"),
        "printed_n": _("Tickets with a printed estimate"),
        "printed_mae_min": _("Printed estimate: mean absolute error (min)"),
        "printed_bias_min": _("Printed estimate: bias (min)"),
        "share": _("Share"), "calls": _("Calls"), "marked_no_show": _("No-shows marked"),
        "transfers_out": _("Transfers made"), "open_hours": _("Hours open"),
        "served_per_open_hour": _("Served per open hour"), "transfers": _("Transfers"),
        "wait_after_mean_min": _("Mean wait after transfer (min)"),
        "wait_after_median_min": _("Median wait after transfer (min)"),
        "wait_after_p90_min": _("90th percentile wait after transfer (min)"),
        "deposited": _("Dossiers deposited"), "incomplete": _("Incomplete dossiers"),
        # keys and headings
        "period": _("Period"), "service": _("Service"), "name": _("Name"),
        "key_service": _("Service"), "key_counter": _("Counter"), "key_agent": _("Agent"),
        "key_outcome": _("Outcome"), "key_channel": _("Channel"),
        "key_priority": _("Priority"), "key_transfer": _("Transfer"),
        "type": _("Dossier type"), "status": _("Status"), "count": _("Count"),
        "branch": _("Branch"), "branch_code": _("Branch code"), "timezone": _("Time zone"),
        "from": _("From"), "to": _("To"), "grain": _("Grain"),
        "percentiles": _("Percentiles"), "complete": _("Complete"),
        "generated_at": _("Generated at"), "yes": _("yes"), "no": _("no"),
        "grain_hour": _("Hour"), "grain_day": _("Day"), "grain_week": _("Week"),
        "exact_nearest_rank": _("exact (nearest rank)"),
        "histogram_1min": _("from one-minute histograms (upper edge of the minute)"),
        # sheets
        "sheet_summary": _("Summary"), "sheet_periods": _("Periods"),
        "sheet_period_services": _("Periods by service"), "sheet_service": _("Services"),
        "sheet_counter": _("Counters"), "sheet_agent": _("Agents"),
        "sheet_outcome": _("Outcomes"), "sheet_channel": _("Channels"),
        "sheet_priority": _("Priorities"), "sheet_transfer": _("Transfers"),
        "sheet_dossiers": _("Dossiers"), "sheet_tickets": _("Tickets"),
        "sheet_notes": _("Notes"),
        # ticket list
        "day": _("Day"), "code": _("Ticket"), "final_service": _("Final service"),
        "priority": _("Priority"), "channel": _("Channel"), "language": _("Language"),
        "outcome": _("Outcome"), "issued_at": _("Issued at"),
        "first_called_at": _("First called at"), "started_at": _("Started at"),
        "finished_at": _("Finished at"), "wait_s": _("Wait (s)"),
        "service_s": _("Service time (s)"), "counter": _("Counter"), "agent": _("Agent"),
        "transfer_count": _("Transfers"), "recall_count": _("Recalls"),
        "printed_wait_minutes": _("Printed wait (min)"),
        "printed_people_ahead": _("Printed people ahead"),
        "printed_error_s": _("Actual minus printed wait (s)"),
        # values
        "outcome_served": _("Served"), "outcome_dossier_received": _("Dossier received"),
        "outcome_information_given": _("Information given"),
        "outcome_redirected": _("Redirected"),
        "outcome_incomplete_dossier": _("Incomplete dossier"),
        "channel_kiosk": _("Kiosk"), "channel_counter": _("Counter"),
        "channel_api": _("API"), "channel_phone": _("Phone"),
        "priority_normal": _("Normal"), "priority_elderly": _("Elderly"),
        "priority_disabled": _("Disabled"), "priority_pregnant": _("Pregnant"),
    }


def label_function():
    table = labels()
    return lambda code: table.get(code, code)


def notes(percentiles: str, exact_days: int, tickets_sheet: bool = True) -> list[str]:
    """The conventions, as the workbook's last sheet and the page's footnotes say them."""
    lines = [
        _("Every figure about a ticket belongs to the branch day it was issued on and to "
          "the service it was issued to; hours are local to the branch."),
        _("Wait: from the ticket's issue to its first call. A transferred ticket keeps that "
          "wait; the wait after a transfer is in the Transfers table."),
        _("Service time: from the start to the finish that ended the ticket."),
        _("Percentiles by nearest rank: the value at rank ceil(p × n / 100); the median "
          "is the lower middle value for an even count."),
        _("Service level: tickets called within their service's target (strictly less), "
          "divided by tickets called plus tickets never called that waited past the "
          "target. A no-show counts at its call."),
        _("Printed estimate: actual wait minus the wait printed on the ticket; bias is the "
          "mean, MAE the mean of absolute values."),
        _("No personal data: no visitor identity, no notes, no insured numbers."),
    ]
    if not tickets_sheet:
        lines.append(_("The ticket list is in the workbook for ranges up to %(days)s days: "
                       "for a longer range, download the tickets as CSV.", days=exact_days))
    if percentiles == "histogram_1min":
        lines.insert(4, _("This range is longer than %(days)s days: percentiles come from "
                          "one-minute histograms and give the upper edge of the minute "
                          "(at most one minute above the exact value).", days=exact_days))
    return lines
