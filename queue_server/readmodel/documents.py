"""What a printer agent renders: the fields of ``printers.TicketPrint`` and
``printers.DepositPrint``, laid out from the projection (no database)."""
from __future__ import annotations

from ..engine.model import Ticket
from .presenters import local_iso
from .projection import BranchProjection


def languages(p: BranchProjection, visitor: str) -> list[str]:
    """The visitor's language first, then the branch's second display language."""
    second = next((lang for lang in p.branch.display_languages if lang != visitor), None)
    return [visitor] + ([second] if second else [])


def ticket(p: BranchProjection, t: Ticket, ahead: int, minutes: int, qr_url: str | None,
           printing) -> dict:
    svc = p.service(t.service_id)
    issued = local_iso(t.issued_at, p.branch.timezone) or ""
    return {
        "branch_name": p.branch.names, "service_name": svc.names if svc else {},
        "code": t.code, "people_ahead": ahead or 0, "estimated_wait_minutes": minutes,
        "priority": t.priority.value,
        "issued_at_local": issued[:16].replace("T", " "), "qr_url": qr_url,
        "languages": languages(p, t.language),
        "header_lines": list(printing.header_lines), "footer_lines": list(printing.footer_lines),
    }
