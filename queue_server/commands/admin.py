"""Administration commands: services, counters, display zones, opening hours, the
branch policy, devices, users. Each change is an event of the branch (who, when,
what before and after), so the read model of every process follows it (live, no
restart) and the change is audited (GET /api/v1/admin/history).

Who may do what is the edges' first check (permissions); the rules that depend on
the thing changed are here: a manager manages agents' accounts only, nobody
disables their own account, no active service is left without a counter.
"""
from __future__ import annotations

from dataclasses import replace

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..db import schema as s
from ..engine.errors import Conflict, DomainError, NotAllowed, NotFound
from ..engine.messages import N_, register, words
from ..engine.model import Event
from ..engine.schedule import Schedule, ScheduleError, minutes_of

register({
    "username_taken": N_("The username '%(username)s' is taken: choose another."),
    "device_not_found": N_("There is no active device token %(token_id)s in this branch."),
    "user_not_found": N_("There is no user %(user)s in this branch."),
    "manager_agents_only": N_("A manager manages agents' accounts only; '%(username)s' is "
                              "%(role_name)s. Ask an administrator."),
    "not_yourself": N_("You cannot disable your own account: ask another administrator."),
    "user_already": N_("The account '%(username)s' is already %(state_name)s."),
    "unknown_services": N_("Unknown service(s) %(services)s: use the prefixes of this "
                           "branch (%(choices)s)."),
    "duplicate_services": N_("A service is listed twice: %(services)s."),
    "unknown_counters": N_("Unknown counter(s) %(counters)s in this branch."),
    "duplicate_zone": N_("Two display zones are named '%(zone)s': give each its own name."),
    "bad_cutoff": N_("The cut-off must be a time like 15:30 (HH:MM), not '%(cutoff)s'."),
    "nothing_to_change": N_("Nothing to change: send at least one field."),
    "session_not_found": N_("There is no open session %(token_id)s in this branch."),
    "wrong_password": N_("The current password is not right: type it again."),
})
# roles and account states inside sentences
words("role_name", {"agent": N_("an agent"), "manager": N_("a manager"),
                    "admin": N_("an administrator")})
words("state_name", {"active": N_("active"), "disabled": N_("disabled")})


class Forbidden(NotAllowed):
    """The caller's role may not do this to this thing (the edges answer 403)."""

    kind = "forbidden"


class InvalidInput(DomainError):
    """Well-formed but unusable input (the edges answer 400)."""

    kind = code = "invalid_input"


SERVICE_FIELDS = ("names", "target_wait_minutes", "icon", "active", "closed_today", "cutoff")
POLICY_FIELDS = ("pause_alert_minutes",)


class AdminCommands:
    writer: object
    auth: object

    # --- services ----------------------------------------------------------------------

    def edit_service(self, branch_id: int, prefix: str, changes: dict, actor) -> None:
        """Names (merged per language), icon, target, open or closed, closed for today
        only, the daily cut-off ("HH:MM", None to remove)."""
        changes = {k: v for k, v in changes.items() if k in SERVICE_FIELDS}
        if not changes:
            raise InvalidInput("nothing_to_change")
        if changes.get("cutoff") is not None:
            try:
                minutes_of(changes["cutoff"])
            except ScheduleError:
                raise InvalidInput("bad_cutoff", cutoff=str(changes["cutoff"])[:20]) from None

        def step(uow, p):
            svc = p.service_by_prefix(prefix)
            if svc is None:
                raise NotFound("service_not_found", service=prefix)
            current = {"names": svc.names, "target_wait_minutes": svc.target_wait_minutes,
                       "icon": svc.icon, "active": svc.active,
                       "closed_today": svc.closed_day == p.day, "cutoff": svc.cutoff}
            after = dict(changes)
            if "names" in after:
                after["names"] = {**svc.names, **after["names"]}
            values = {k: v for k, v in after.items() if k not in ("closed_today",)}
            if "closed_today" in after:
                values["closed_day"] = p.day if after["closed_today"] else None
            reopening = (after.get("active") is True and not svc.active) or \
                (after.get("closed_today") is False and svc.closed_day == p.day)
            if reopening and not any(c.serves(svc.id) for c in p.counter_list()):
                raise NotAllowed("service_without_counter", service=svc.prefix)
            before = {k: current[k] for k in after}
            uow.conn.execute(update(s.services).where(s.services.c.id == svc.id).values(**values))
            uow.config = True
            uow.add(Event("service_edited", uow.now, actor, service_id=svc.id,
                          data={"prefix": prefix, "before": before, "after": after}))
        self.writer.run(branch_id, step)

    # --- counters -----------------------------------------------------------------------

    def configure_counter(self, branch_id: int, number: int, services: list[str],
                          name: str | None, actor) -> None:
        """The services a counter serves, in the order it serves them (and its name).
        Refused when an active service would be left with no counter."""
        def step(uow, p):
            row = p.counter_row(number)
            if row is None:
                raise NotFound("counter_not_found", counter=number)
            unknown = [x for x in services if p.service_by_prefix(x) is None]
            if unknown:
                raise InvalidInput("unknown_services", services=unknown,
                                   choices=[sv.prefix for sv in p.services])
            dup = sorted({x for x in services if services.count(x) > 1})
            if dup:
                raise InvalidInput("duplicate_services", services=dup)
            c = row.counter
            skills = {p.service_by_prefix(x).id: rank for rank, x in enumerate(services)}
            others = [o for o in p.counter_list() if o.id != c.id]
            for sv in p.services:
                if sv.active and sv.id not in skills and not any(o.serves(sv.id) for o in others):
                    raise NotAllowed("service_without_counter", service=sv.prefix)
            before = {"services": [p.service(sid).prefix for sid, _r in
                                   sorted(c.services.items(), key=lambda kv: kv[1])
                                   if p.service(sid)], "name": c.name}
            after = {"services": list(services), "name": name or c.name}
            uow.conn.execute(delete(s.counter_services).where(
                s.counter_services.c.counter_id == c.id))
            if skills:
                uow.conn.execute(insert(s.counter_services), [
                    {"counter_id": c.id, "service_id": sid, "rank": rank}
                    for sid, rank in skills.items()])
            if name and name != c.name:
                uow.conn.execute(update(s.counters).where(s.counters.c.id == c.id)
                                 .values(name=name))
            # the row's version moves: the counter's after-state travels in the batch
            uow.save_counter(row, replace(c, services=skills, name=after["name"]))
            uow.add(Event("counter_configured", uow.now, actor, counter_id=c.id,
                          data={"counter_number": number, "before": before, "after": after}))
        self.writer.run(branch_id, step)

    # --- the branch: display zones, hours, policy ----------------------------------------------

    def _edit_branch(self, branch_id: int, what: str, compute, actor) -> None:
        """``compute(p, conn) -> (column, stored value, before, after)``."""
        def step(uow, p):
            column, value, before, after = compute(p, uow.conn)
            uow.conn.execute(update(s.branches).where(s.branches.c.id == branch_id)
                             .values(**{column: value}))
            uow.config = True
            uow.add(Event("branch_edited", uow.now, actor,
                          data={"what": what, "before": before, "after": after}))
        self.writer.run(branch_id, step)

    def set_display_zones(self, branch_id: int, zones: list[dict], actor) -> None:
        """The wall display zones: [{name, services: [prefix], counters: [number]}]."""
        def compute(p, _conn):
            names = [z["name"] for z in zones]
            for n in names:
                if names.count(n) > 1:
                    raise InvalidInput("duplicate_zone", zone=n)
            prefixes = {sv.prefix for sv in p.services}
            unknown = sorted({x for z in zones for x in z.get("services", ())} - prefixes)
            if unknown:
                raise InvalidInput("unknown_services", services=unknown, choices=sorted(prefixes))
            numbers = {c.number for c in p.counter_list()}
            missing = sorted({x for z in zones for x in z.get("counters", ())} - numbers)
            if missing:
                raise InvalidInput("unknown_counters", counters=missing)
            after = [{"name": z["name"], "services": list(z.get("services", ())),
                      "counters": list(z.get("counters", ()))} for z in zones]
            return "display_zones", after, list(p.branch.zones.values()), after
        self._edit_branch(branch_id, "display_zones", compute, actor)

    def set_schedule(self, branch_id: int, data: dict, actor) -> None:
        """Opening hours per weekday, closed days and special hours (engine/schedule.py)."""
        try:
            schedule = Schedule.from_data(data)
        except ScheduleError as exc:
            raise InvalidInput("bad_schedule", problem=str(exc)) from None
        after = schedule.to_data()
        self._edit_branch(branch_id, "schedule",
                          lambda p, _c: ("schedule", after, p.branch.schedule.to_data(), after),
                          actor)

    def edit_policy(self, branch_id: int, changes: dict, actor) -> None:
        """Branch policy values an administrator may change here (POLICY_FIELDS)."""
        changes = {k: v for k, v in changes.items() if k in POLICY_FIELDS and v is not None}
        if not changes:
            raise InvalidInput("nothing_to_change")

        def compute(p, conn):
            stored = dict(conn.execute(select(s.branches.c.policy).where(
                s.branches.c.id == p.branch.id)).scalar() or {})
            before = {k: getattr(p.policy, k) for k in changes}
            stored.update(changes)
            return "policy", stored, before, dict(changes)
        self._edit_branch(branch_id, "policy", compute, actor)

    # --- devices ---------------------------------------------------------------------------

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
                s.tokens.c.kind == "device", s.tokens.c.revoked_at.is_(None))).first()
            if row is None:
                raise NotFound("device_not_found", token_id=token_id)
            uow.conn.execute(update(s.tokens).where(s.tokens.c.id == token_id)
                             .values(revoked_at=uow.now))
            uow.add(Event("device_revoked", uow.now, actor,
                          data={"token_id": token_id, "role": row.role, "name": row.name}))
        self.writer.run(branch_id, step)

    # --- users -------------------------------------------------------------------------------

    @staticmethod
    def _may_manage(by_role: str | None, username: str, role: str) -> None:
        if by_role == "manager" and role != "agent":
            raise Forbidden("manager_agents_only", username=username, role_name=role)

    def create_user(self, branch_id: int, username: str, password: str, role: str,
                    display_name: str, actor, by_role: str | None = None,
                    scope=None) -> int:
        """``scope``: a supervisor's (auth.Scope; the route checked what it names)."""
        self._may_manage(by_role, username, role)
        hashed = self.auth.hash_password(password)  # slow: before the transaction

        def step(uow, p):
            uid = self.auth.insert_user(uow.conn, branch_id, username, hashed, role,
                                        display_name, scope)
            uow.config = True  # the read model names agents
            data = {"user_id": uid, "username": username, "role": role,
                    "display_name": display_name or username}
            if scope is not None:
                data["scope"] = scope.data()
            uow.add(Event("user_created", uow.now, actor, data=data))
            return uid
        try:
            return self.writer.run(branch_id, step)[0]
        except IntegrityError:
            raise Conflict("username_taken", username=username) from None

    def _user(self, uow, user_id: int):
        row = uow.conn.execute(select(s.users).where(
            s.users.c.id == user_id, s.users.c.branch_id == uow.branch_id)).first()
        if row is None:
            raise NotFound("user_not_found", user=user_id)
        return row

    @staticmethod
    def _end_sessions(uow, user_id: int, keep: int | None = None) -> int:
        where = [s.tokens.c.user_id == user_id, s.tokens.c.kind == "session",
                 s.tokens.c.revoked_at.is_(None)]
        if keep is not None:
            where.append(s.tokens.c.id != keep)
        return uow.conn.execute(update(s.tokens).where(*where)
                                .values(revoked_at=uow.now)).rowcount

    # --- sessions (staff tokens): a separate route from devices -------------------------------

    def revoke_session(self, branch_id: int, token_id: int, actor, by_role: str | None = None,
                       logout: bool = False) -> None:
        """End one staff session (an admin, or its owner signing out); its sockets are
        cut in every process (fanout._cut). A device token is not a session: refused."""
        def step(uow, p):
            row = uow.conn.execute(select(s.tokens).where(
                s.tokens.c.id == token_id, s.tokens.c.branch_id == branch_id,
                s.tokens.c.kind == "session", s.tokens.c.revoked_at.is_(None))).first()
            if row is None or (row.expires_at is not None and row.expires_at <= uow.now):
                raise NotFound("session_not_found", token_id=token_id)
            if not logout:
                owner = self._user(uow, row.user_id)
                self._may_manage(by_role, owner.username, owner.role)
            uow.conn.execute(update(s.tokens).where(s.tokens.c.id == token_id)
                             .values(revoked_at=uow.now))
            uow.add(Event("session_revoked", uow.now, actor,
                          data={"token_id": token_id, "user_id": row.user_id,
                                "logout": logout}))
        self.writer.run(branch_id, step)

    def change_own_password(self, branch_id: int, user_id: int, token_id: int, old: str,
                            new: str, actor) -> int:
        """A user changes their own password (the old one first); their other sessions
        end, the one that asked stays. Returns how many sessions ended."""
        with self.writer.db.read() as conn:
            current = conn.execute(select(s.users.c.password_hash).where(
                s.users.c.id == user_id)).scalar()
        if current is None or not self.auth.check_password(current, old):
            raise Forbidden("wrong_password")
        hashed = self.auth.hash_password(new)

        def step(uow, p):
            row = self._user(uow, user_id)
            uow.conn.execute(update(s.users).where(s.users.c.id == user_id)
                             .values(password_hash=hashed))
            ended = self._end_sessions(uow, user_id, keep=token_id)
            uow.add(Event("user_password_changed", uow.now, actor,
                          data={"user_id": user_id, "username": row.username,
                                "sessions_ended": ended, "kept_token_id": token_id,
                                "own": True}))
            return ended
        return self.writer.run(branch_id, step)[0]

    def reset_password(self, branch_id: int, user_id: int, password: str, actor,
                       by_role: str | None = None) -> None:
        """A new password; the user's open sessions end (they sign in again)."""
        hashed = self.auth.hash_password(password)

        def step(uow, p):
            row = self._user(uow, user_id)
            self._may_manage(by_role, row.username, row.role)
            uow.conn.execute(update(s.users).where(s.users.c.id == user_id)
                             .values(password_hash=hashed))
            ended = self._end_sessions(uow, user_id)
            uow.add(Event("user_password_changed", uow.now, actor,
                          data={"user_id": user_id, "username": row.username,
                                "sessions_ended": ended}))
        self.writer.run(branch_id, step)

    def set_user_active(self, branch_id: int, user_id: int, active: bool, actor,
                        by_role: str | None = None) -> None:
        """Disable (its sessions end at once, in every process) or enable an account."""
        def step(uow, p):
            row = self._user(uow, user_id)
            self._may_manage(by_role, row.username, row.role)
            if not active and actor.kind == "user" and actor.id == user_id:
                raise NotAllowed("not_yourself")
            if bool(row.active) == active:
                raise Conflict("user_already", username=row.username,
                               state_name="active" if active else "disabled")
            uow.conn.execute(update(s.users).where(s.users.c.id == user_id)
                             .values(active=active))
            data = {"user_id": user_id, "username": row.username,
                    "before": {"active": bool(row.active)}, "after": {"active": active}}
            if not active:
                data["sessions_ended"] = self._end_sessions(uow, user_id)
            uow.add(Event("user_disabled" if not active else "user_enabled", uow.now, actor,
                          data=data))
        self.writer.run(branch_id, step)
