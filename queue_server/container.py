"""Everything one server process holds, built once by the app factory."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from .api.errors import ApiError
from .auth import Auth
from .commands import Commands
from .db import repo, schema as s
from .db.database import Database
from .engine.errors import NotFound
from .fanout import FanOut
from .queries import Queries


@dataclass
class Tabour:
    db: Database
    auth: Auth
    commands: Commands
    queries: Queries
    fanout: FanOut
    socketio: object
    settings: object
    sessions: object = None
    printjobs: object = None  # kiosks, pairing, print jobs (queue_server.printjobs)
    dossiers: object = None  # dossier drop-off and tracking (queue_server.dossiers)

    def database_ok(self) -> bool:
        try:
            with self.db.read() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def agent_of_counter(self, branch_id: int, number: int) -> int | None:
        with self.db.read() as conn:
            return repo.counter_agents(conn, branch_id).get(number)

    def edit_service(self, branch_id: int, prefix: str, changes: dict) -> None:
        with self.db.write() as conn:
            res = conn.execute(update(s.services).where(
                s.services.c.branch_id == branch_id, s.services.c.prefix == prefix)
                .values(**changes))
            if res.rowcount == 0:
                raise NotFound(f"There is no service '{prefix}' in this branch.")
        self.fanout.config_changed(branch_id)

    def create_user(self, branch_id: int, username: str, password: str, role: str,
                    display_name: str = "") -> int:
        try:
            return self.auth.create_user(branch_id, username, password, role, display_name)
        except IntegrityError:
            raise ApiError(409, "conflict", f"The username '{username}' is taken: "
                                            "choose another.") from None

    def branch_ids(self) -> list[int]:
        with self.db.read() as conn:
            return [r[0] for r in conn.execute(select(s.branches.c.id))]
