"""Pairing a kiosk or a wall display: an admin makes a short code, the device types it
once and gets its own device token. Codes are stored hashed and spent by a conditional
update (of two devices typing one code at once, one wins); a code pairs one role only (a
display code typed on a kiosk is a wrong code); wrong codes are counted per client in
shared storage. Tokens never travel in a log or an address: a newcomer types a code.

``first_contact_codes`` makes, for the start banner of a one-PC branch, a code for each
role that has no device yet."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, insert, select, update

from ..db import schema as s
from ..engine.errors import Conflict, NotAllowed, NotFound
from ..engine.messages import N_, register
from ..engine.model import Event
from ..shared import TooMany

register({
    "invalid_pairing_code": N_("This pairing code is not valid (wrong, already used or "
                               "expired): ask an administrator for a new one."),
    "too_many_pairing_attempts": N_("Too many wrong pairing codes from this device: wait a "
                                    "minute, then type the code again."),
    "pairing_busy": N_("Could not make a pairing code: try again."),
})


class TooManyAttempts(NotAllowed):
    kind = code = "too_many_attempts"


ROLES = ("kiosk", "display")  # what a pairing code can pair


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in str(code) if ch.isdigit())


class PairingCommands:
    writer: object
    auth: object
    printing: object
    pairing_limiter: object

    def create_pairing_code(self, branch_id: int, kiosk_name: str, printer: str | None,
                            actor, role: str = "kiosk") -> dict:
        """A one-time code (valid ``pairing_code_minutes``) that pairs a device of ``role``
        named ``kiosk_name``; a kiosk prints on ``printer``."""
        if role not in ROLES:
            raise ValueError(f"a pairing code pairs one of {', '.join(ROLES)}")
        printer = printer or self.printing.agent_printer
        minutes = self.printing.pairing_code_minutes

        def step(uow, p):
            expires = uow.now + timedelta(minutes=minutes)
            for _ in range(10):
                code = f"{secrets.randbelow(10**6):06d}"
                # an expired or used code may be drawn again: free its hash first
                uow.conn.execute(delete(s.pairing_codes).where(
                    s.pairing_codes.c.code_hash == digest(code),
                    (s.pairing_codes.c.used_at.is_not(None))
                    | (s.pairing_codes.c.expires_at <= uow.now)))
                live = uow.conn.execute(select(s.pairing_codes.c.id).where(
                    s.pairing_codes.c.code_hash == digest(code))).first()
                if live is None:
                    break
            else:
                raise Conflict("pairing_busy")
            uow.conn.execute(insert(s.pairing_codes).values(
                branch_id=branch_id, code_hash=digest(code), role=role, kiosk_name=kiosk_name,
                printer=printer, created_at=uow.now, expires_at=expires))
            uow.add(Event("pairing_code_created", uow.now, actor,
                          data={"device_name": kiosk_name, "printer": printer, "role": role,
                                "expires_at": expires.isoformat()}))
            made = {"code": f"{code[:3]}-{code[3:]}", "role": role, "expires_at": expires,
                    "minutes": minutes}
            if role == "kiosk":
                made |= {"kiosk_name": kiosk_name, "printer": printer}
            else:
                made["name"] = kiosk_name
            return made
        return self.writer.run(branch_id, step)[0]

    def first_contact_codes(self, branch_id: int, actor) -> dict[str, dict]:
        """For each role with no paired device (no live device token of that role), a new
        pairing code: what a newcomer types on /kiosk/ and /display/ (the start banner of
        a one-PC branch prints them)."""
        with self.writer.db.read() as conn:
            rows = conn.execute(select(s.tokens.c.role, func.count()).where(
                s.tokens.c.branch_id == branch_id, s.tokens.c.kind == "device",
                s.tokens.c.revoked_at.is_(None)).group_by(s.tokens.c.role)).all()
        paired = {role for role, n in rows if n}
        names = {"kiosk": "Kiosk 1", "display": "Wall display 1"}
        return {role: self.create_pairing_code(branch_id, names[role], None, actor, role)
                for role in ROLES if role not in paired}

    def pair(self, code: str, client: str, role: str = "kiosk") -> dict:
        """Trade a pairing code for a device token of ``role`` (once)."""
        try:
            self.pairing_limiter.check(client)
        except TooMany as exc:
            refused = TooManyAttempts("too_many_pairing_attempts")
            refused.retry_after_s = exc.retry_after_s
            raise refused from None
        digits = normalise_code(code)
        with self.writer.db.read() as conn:
            row = conn.execute(select(s.pairing_codes).where(
                s.pairing_codes.c.code_hash == digest(digits))).first()
        if row is None or row.role != role:
            self.pairing_limiter.hit(client)
            raise NotFound("invalid_pairing_code")

        def step(uow, p):
            spent = uow.conn.execute(update(s.pairing_codes).where(
                s.pairing_codes.c.id == row.id, s.pairing_codes.c.used_at.is_(None),
                s.pairing_codes.c.expires_at > uow.now).values(used_at=uow.now)).rowcount
            if spent != 1:
                return None
            token, token_id = self.auth.insert_token(uow.conn, row.branch_id, "device", role,
                                                     row.kiosk_name, None, None)
            if role == "kiosk":
                uow.conn.execute(insert(s.kiosks).values(
                    token_id=token_id, branch_id=row.branch_id, name=row.kiosk_name,
                    printer=row.printer, created_at=uow.now))
            uow.conn.execute(update(s.pairing_codes).where(s.pairing_codes.c.id == row.id)
                             .values(token_id=token_id))
            from ..engine.model import Actor
            data = {"token_id": token_id, "role": role, "name": row.kiosk_name}
            if role == "kiosk":
                data["printer"] = row.printer
            uow.add(Event("device_paired", uow.now, Actor("device", token_id, row.kiosk_name),
                          data=data))
            return {"token": token, "token_id": token_id, "name": row.kiosk_name} | (
                {"printer": row.printer} if role == "kiosk" else {})
        done = self.writer.run(row.branch_id, step)[0]
        if done is None:
            self.pairing_limiter.hit(client)
            raise NotFound("invalid_pairing_code")
        return done
