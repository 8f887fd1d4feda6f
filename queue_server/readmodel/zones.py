"""Wall display zones, read from the branch's projection (they live in the database:
``branches.display_zones``, seeded once from the configuration file's
``[[branch.display]]`` and edited at /admin/; a change reaches every process as a
``branch_edited`` event, so a new zone needs no restart). The filters themselves
(what a zone shows) are display/web/zones.py's."""
from __future__ import annotations

from ..engine.errors import NotFound
from ..engine.messages import N_, register

register({
    "unknown_display_zone": N_("There is no display zone '%(zone)s' in this branch: the zones "
                               "are %(choices)s."),
    "display_zone_not_text": N_("'zone' must be the name of a display zone (text)."),
})


def resolve(branch, zone) -> dict | None:
    """The zone's filter, None for "the whole branch"; a domain error for an unknown zone."""
    if zone is None or zone == "":
        return None
    if not isinstance(zone, str):
        raise NotFound("display_zone_not_text")
    known = branch.zones
    if zone not in known:
        raise NotFound("unknown_display_zone", zone=zone[:40], choices=sorted(known) or ["–"])
    return known[zone]
