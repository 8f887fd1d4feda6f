"""What a supervisor sees: the roll-up rows of its scope (the socket's snapshot, view
"supervisor", and GET /api/v1/supervisor), and the rooms its connection joins."""
from __future__ import annotations

from .. import rooms
from ..auth import Scope
from ..readmodel import presenters as P
from ..readmodel.rollup import worst_first


def supervisor_snapshot(tabour, principal) -> dict:
    """Every branch of the supervisor's scope as a roll-up row, worst first, and the
    rooms its connection joins (``_rooms``, taken off before sending): the rooms of its
    regions (national: every region, and the branches with none), or of each branch
    its scope names. O(branches in scope)."""
    now = tabour.now()
    tabour.rollups.forget_audience()  # a supervisor is here: who listens is read again
    in_scope = tabour.auth.branches_in_scope(principal)
    rows = [tabour.rollups.row(r.id, now) for r in in_scope]
    regions = tabour.auth.regions()
    scope = principal.scope or Scope()
    if scope.national:
        joined = [rooms.region(code) for code in regions] + [rooms.region(None)]
    else:
        joined = [rooms.region(code) for code in sorted(scope.regions)]
        joined += [rooms.supervised(r.id) for r in in_scope if r.code in scope.branches]
    return {"view": "supervisor", "now": P.local_iso(now, "UTC"), "scope": scope.data(),
            "regions": regions, "rows": worst_first(rows, now), "_rooms": joined}
