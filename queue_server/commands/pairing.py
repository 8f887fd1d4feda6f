"""Pairing a kiosk: an admin makes a short code, the kiosk types it once and gets
its own device token. Codes are stored hashed and spent by a conditional update
(of two kiosks typing one code at once, one wins); wrong codes are counted per
client in shared storage."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, insert, select, update

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
                branch_id=branch_id, code_hash=digest(code), kiosk_name=kiosk_name,
                printer=printer, created_at=uow.now, expires_at=expires))
            uow.add(Event("pairing_code_created", uow.now, actor,
                          data={"device_name": kiosk_name, "printer": printer, "role": role,
                                "expires_at": expires.isoformat()}))
            return {"code": f"{code[:3]}-{code[3:]}", "kiosk_name": kiosk_name,
                    "printer": printer, "expires_at": expires}
        return self.writer.run(branch_id, step)[0]

    def pair(self, code: str, client: str) -> dict:
        """Trade a pairing code for a kiosk device token (once)."""
        try:
            self.pairing_limiter.check(client)
        except TooMany:
            raise TooManyAttempts("too_many_pairing_attempts") from None
        digits = normalise_code(code)
        with self.writer.db.read() as conn:
            row = conn.execute(select(s.pairing_codes).where(
                s.pairing_codes.c.code_hash == digest(digits))).first()
        if row is None:
            self.pairing_limiter.hit(client)
            raise NotFound("invalid_pairing_code")

        def step(uow, p):
            spent = uow.conn.execute(update(s.pairing_codes).where(
                s.pairing_codes.c.id == row.id, s.pairing_codes.c.used_at.is_(None),
                s.pairing_codes.c.expires_at > uow.now).values(used_at=uow.now)).rowcount
            if spent != 1:
                return None
            token, token_id = self.auth.insert_token(uow.conn, row.branch_id, "device", "kiosk",
                                                     row.kiosk_name, None, None)
            uow.conn.execute(insert(s.kiosks).values(
                token_id=token_id, branch_id=row.branch_id, name=row.kiosk_name,
                printer=row.printer, created_at=uow.now))
            uow.conn.execute(update(s.pairing_codes).where(s.pairing_codes.c.id == row.id)
                             .values(token_id=token_id))
            from ..engine.model import Actor
            uow.add(Event("device_paired", uow.now, Actor("device", token_id, row.kiosk_name),
                          data={"token_id": token_id, "role": "kiosk", "name": row.kiosk_name,
                                "printer": row.printer}))
            return {"token": token, "token_id": token_id, "name": row.kiosk_name,
                    "printer": row.printer}
        done = self.writer.run(row.branch_id, step)[0]
        if done is None:
            self.pairing_limiter.hit(client)
            raise NotFound("invalid_pairing_code")
        return done
