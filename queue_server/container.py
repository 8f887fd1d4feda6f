"""Everything one server process holds, built once by the app factory."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select, text

from .db import schema as s
from .db.database import Database


@dataclass
class Tabour:
    db: Database
    auth: object
    commands: object  # commands.Commands: the write path
    projections: object  # readmodel.registry.Projections: the read model
    estimator: object
    fanout: object
    socketio: object
    settings: object
    clock: object
    printing: object  # PrintingConfig
    dossiers: object = None  # readmodel.dossiers.DossierQueries
    sessions: object = None
    shared: object = None  # shared counters (limits)
    leases: object = None
    limiters: dict = None
    announcer: object = None
    serial_counters: object = None
    dashboard: object = None  # dashboard.live.DashboardHub: live pushes and the alert watch
    site: object = None  # sites.SiteLink: this server is a site that syncs with a centre
    rollups: object = None  # readmodel.rollup.Rollups: each branch's row for supervisors
    gc_pauses: object = None  # gc_pauses.Pauses: the server's collector policy (run.py)
    kiosks: dict = field(default_factory=dict)  # kiosk token id -> its kiosk row (cache)
    # branch id -> the last earlier day housekeeping saw summarised (housekeeping.py)
    summarised_days: dict = field(default_factory=dict)

    def view(self, branch_id: int):
        """The branch's projection, at the current time (raises NotFound)."""
        return self.projections.get(branch_id)

    def now(self):
        return self.clock()

    def database_ok(self) -> bool:
        try:
            with self.db.read() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def branch_ids(self) -> list[int]:
        with self.db.read() as conn:
            return [r[0] for r in conn.execute(select(s.branches.c.id).order_by(s.branches.c.id))]
