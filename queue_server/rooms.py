"""Socket.IO room names. The only place they are built."""

# "phones": visitors following their ticket without a token (queue summaries only)
AUDIENCES = ("displays", "kiosks", "counters", "dashboards", "printers", "phones")


def audience(branch_id: int, name: str) -> str:
    if name not in AUDIENCES:
        raise ValueError(f"unknown audience {name!r}")
    return f"b{branch_id}:{name}"


def counter(branch_id: int, number: int) -> str:
    return f"b{branch_id}:counter:{number}"


def ticket(branch_id: int, ticket_id: int) -> str:
    return f"b{branch_id}:ticket:{ticket_id}"


def dossier(branch_id: int, dossier_id: int) -> str:
    """The phone (or kiosk) following one dossier by its tracking number."""
    return f"b{branch_id}:dossier:{dossier_id}"


def printer(branch_id: int, name: str) -> str:
    """The printer agent(s) serving one named printer."""
    return f"b{branch_id}:printer:{name}"


def zone(branch_id: int, name: str) -> str:
    """The wall displays of one display zone (they get only what the zone shows)."""
    return f"b{branch_id}:zone:{name}"


def region(code: str | None) -> str:
    """The supervisors watching a region (``None``: the branches with no region, watched
    by national supervisors); national ones join every region's room."""
    return f"supervisors:region:{code or '-'}"


def supervised(branch_id: int) -> str:
    """The supervisors whose scope names this branch by its code (not by a region)."""
    return f"b{branch_id}:supervisors"
