"""Wall display zones and other per-branch display settings, read from config/branches.toml.

    [[branch.display]]
    zone = "hall"                 # a display connects with auth {view: "display", zone: "hall"}
    services = ["A", "B"]         # optional: only these services' calls and queues
    counters = [1, 2, 3]          # optional: only calls to these counters

The file is re-read when it changes (mtime), so a new zone needs no restart. A display
without a zone shows the whole branch.
"""
from __future__ import annotations

import logging
import threading
import tomllib
from pathlib import Path

log = logging.getLogger("tabour.display.zones")

_cache: dict[Path, tuple[float, dict]] = {}
_lock = threading.Lock()


class ZoneError(Exception):
    """A display asked for a zone this branch does not define. ``zone`` and ``zones`` (the
    known ones) let the refusal be told in the display's language."""

    def __init__(self, message: str, zone: str = "", zones: list[str] | None = None):
        super().__init__(message)
        self.zone, self.zones = zone, list(zones or [])


def branch_config(config_path: str | Path, branch_code: str) -> dict:
    """The [[branch]] table with this code, or {} (re-read when the file changes)."""
    path = Path(config_path)
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}
    with _lock:
        hit = _cache.get(path)
    if hit is None or hit[0] != mtime:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            log.warning("cannot read %s: %s (keeping the last good version)", path, exc)
            return (hit[1] if hit else {}).get(branch_code, {})
        by_code = {b.get("code"): b for b in data.get("branch") or []}
        with _lock:
            _cache[path] = (mtime, by_code)
        hit = (mtime, by_code)
    return hit[1].get(branch_code, {})


def zones(config_path, branch_code: str) -> dict[str, dict]:
    out = {}
    for d in branch_config(config_path, branch_code).get("display") or []:
        name = str(d.get("zone", "")).strip()
        if name:
            out[name] = {"name": name,
                         "services": [str(s) for s in d.get("services") or []],
                         "counters": [int(c) for c in d.get("counters") or []]}
    return out


def resolve(config_path, branch_code: str, zone: str | None) -> dict | None:
    """The zone's filter, None for "the whole branch"; ZoneError for an unknown zone."""
    if zone is None or zone == "":
        return None
    if not isinstance(zone, str):
        raise ZoneError("'zone' must be the name of a display zone (text).", str(zone)[:40])
    known = zones(config_path, branch_code)
    if zone not in known:
        names = ", ".join(sorted(known)) or "none (add [[branch.display]] to the config)"
        raise ZoneError(f"Unknown display zone {zone!r} for branch {branch_code}: "
                        f"configured zones are {names}.", zone[:40], sorted(known))
    return known[zone]


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
