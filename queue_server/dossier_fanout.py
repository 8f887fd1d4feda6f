"""Dossier events to the screens: the phone following the dossier (its public
status, no personal data) and staff consoles and dashboards. Registered on the
fan-out, which emits."""
from __future__ import annotations

from . import rooms
from .dossiers.lifecycle import EVENT_OF

DOSSIER_EVENTS = ("dossier_deposited",) + tuple(EVENT_OF.values())


def register(tabour) -> None:
    def changed(fo, branch_id, seq, e):
        view = tabour.dossiers.public_by_id(branch_id, e.data["dossier_id"])
        if view is None:
            return
        fo.emit("dossier_changed", {"seq": seq, "event": e.type, "dossier": view},
                rooms.dossier(branch_id, e.data["dossier_id"]))
        staff = {"seq": seq, "event": e.type, "tracking": e.data["tracking"],
                 "type": e.data["type"], "status": e.data["status"], "actor": e.actor.label,
                 "at": fo.local(branch_id, e.at)}
        for name in ("counters", "dashboards"):
            fo.emit("dossier_changed", staff, rooms.audience(branch_id, name))

    for kind in DOSSIER_EVENTS:
        tabour.fanout.on(kind, changed)
