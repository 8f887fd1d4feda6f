"""The visitor's phone page (/t/<ref>): one ticket by its public reference."""
from __future__ import annotations

from sqlalchemy import select

from ..db import repo
from ..db import schema as s
from ..engine.errors import NotFound
from . import presenters as P


def public_ticket(tabour, ref: str):
    """(branch id, ticket) behind a public reference (the QR code on a ticket)."""
    with tabour.db.read() as conn:
        row = conn.execute(select(s.ticket_refs.c.branch_id, s.ticket_refs.c.ticket_id).where(
            s.ticket_refs.c.public_ref == str(ref)[:32])).first()
        if row is None:
            raise NotFound("public_ticket_not_found")
        p = tabour.view(row.branch_id)
        ticket = p.ticket(row.ticket_id) or repo.get_ticket(conn, row.branch_id, row.ticket_id)
    if ticket is None:
        raise NotFound("public_ticket_not_found")
    return row.branch_id, ticket


def public_view(tabour, ref: str) -> dict:
    b, ticket = public_ticket(tabour, ref)
    p = tabour.view(b)
    with tabour.projections.lock(b):
        return P.public_ticket(p, ticket, tabour.now(), tabour.estimator)
