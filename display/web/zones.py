"""What a wall display zone shows: its filters applied to calls and snapshots.

A zone is ``{"name", "services", "counters"}`` (empty lists: no filter); zones live in
the database (seeded once from ``[[branch.display]]`` in config/branches.toml, edited at
/admin/) and are resolved from the branch's projection (queue_server/readmodel/zones.py).
A display without a zone shows the whole branch.
"""
from __future__ import annotations


def shows_call(zone: dict | None, service: str | None, counter: int | None) -> bool:
    if not zone:
        return True
    if zone["services"] and service not in zone["services"]:
        return False
    if zone["counters"] and counter not in zone["counters"]:
        return False
    return True


def filter_snapshot(snap: dict, zone: dict | None) -> dict:
    """Keep what this zone shows: its services, its counters, the calls to them."""
    snap["zone"] = zone
    if not zone:
        return snap
    if zone["services"]:
        snap["services"] = [s for s in snap.get("services", []) if s["prefix"] in zone["services"]]
    if zone["counters"] and "counters" in snap:
        snap["counters"] = [c for c in snap["counters"] if c["number"] in zone["counters"]]
    if "calls" in snap:
        snap["calls"] = [c for c in snap["calls"]
                         if shows_call(zone, c.get("service"), c.get("counter"))]
    return snap


def shows_counter(zone: dict | None, counter: int | None) -> bool:
    return not zone or not zone["counters"] or counter in zone["counters"]


def filter_summary(payload: dict, zone: dict | None) -> dict:
    """A queue summary as a zone's displays see it: its services and counters."""
    if not zone:
        return payload
    out = dict(payload)
    if zone["services"]:
        out["services"] = [s for s in payload["services"] if s["prefix"] in zone["services"]]
    if zone["counters"]:
        out["counters"] = [c for c in payload["counters"] if c["number"] in zone["counters"]]
    return out
