"""Administration commands: services, devices, users. Each change is an event of
the branch (who, when, what before and after), so the read model of every
process follows it and the change is audited."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..db import schema as s
from ..engine.errors import Conflict, NotFound
from ..engine.messages import N_, register
from ..engine.model import Event

register({
    "username_taken": N_("The username '%(username)s' is taken: choose another."),
    "device_not_found": N_("There is no active device token %(token_id)s in this branch."),
})

SERVICE_FIELDS = ("names", "target_wait_minutes", "icon", "active")


class AdminCommands:
    writer: object
    auth: object

    def edit_service(self, branch_id: int, prefix: str, changes: dict, actor) -> None:
        def step(uow, p):
            svc = p.service_by_prefix(prefix)
            if svc is None:
                raise NotFound("service_not_found", service=prefix)
            before = {k: getattr(svc, k) for k in SERVICE_FIELDS if k in changes}
            uow.conn.execute(update(s.services).where(s.services.c.id == svc.id)
                             .values(**changes))
            uow.config = True
            uow.add(Event("service_edited", uow.now, actor, service_id=svc.id,
                          data={"prefix": prefix, "before": before, "after": dict(changes)}))
        self.writer.run(branch_id, step)

    def create_device(self, branch_id: int, role: str, name: str, actor) -> dict:
        if role not in self.auth.DEVICE_ROLES:
            raise ValueError(role)

        def step(uow, p):
            token, token_id = self.auth.insert_token(uow.conn, branch_id, "device", role, name,
                                                     None, None)
            uow.add(Event("device_created", uow.now, actor,
                          data={"token_id": token_id, "role": role, "name": name}))
            return {"token": token, "token_id": token_id, "role": role, "name": name}
        return self.writer.run(branch_id, step)[0]

    def revoke_device(self, branch_id: int, token_id: int, actor) -> None:
        def step(uow, p):
            row = uow.conn.execute(select(s.tokens).where(
                s.tokens.c.id == token_id, s.tokens.c.branch_id == branch_id,
                s.tokens.c.revoked_at.is_(None))).first()
            if row is None:
                raise NotFound("device_not_found", token_id=token_id)
            uow.conn.execute(update(s.tokens).where(s.tokens.c.id == token_id)
                             .values(revoked_at=uow.now))
            uow.add(Event("device_revoked", uow.now, actor,
                          data={"token_id": token_id, "role": row.role, "name": row.name}))
        self.writer.run(branch_id, step)

    def create_user(self, branch_id: int, username: str, password: str, role: str,
                    display_name: str, actor) -> int:
        hashed = self.auth.hash_password(password)  # slow: before the transaction

        def step(uow, p):
            uid = self.auth.insert_user(uow.conn, branch_id, username, hashed, role,
                                        display_name)
            uow.config = True  # the read model names agents
            uow.add(Event("user_created", uow.now, actor,
                          data={"user_id": uid, "username": username, "role": role}))
            return uid
        try:
            return self.writer.run(branch_id, step)[0]
        except IntegrityError:
            raise Conflict("username_taken", username=username) from None
