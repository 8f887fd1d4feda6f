"""Dossier commands: deposit (with its receipt's print job in the same
transaction), move a dossier one step, open it (an audited read)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date
from typing import Callable

from sqlalchemy.exc import IntegrityError

from ..db import repo
from ..dossiers import ids, lifecycle, store, tracking
from ..dossiers.lifecycle import Dossier, DossierStatus
from ..engine.errors import Conflict, InvalidTransition, NotAllowed, NotFound
from ..engine.model import Actor
from ..readmodel import sync as sync_read
from ..readmodel.presenters import local_iso

log = logging.getLogger("tabour.dossiers")

MAX_TRACKING_DRAWS = 10


@dataclass(frozen=True)
class Deposited:
    dossier: Dossier
    created: bool  # False: the idempotency key matched an earlier deposit
    printing: dict | None = None  # the receipt's job, when printed


class DossierCommands:
    writer: object
    dossiers: object  # readmodel.dossiers.DossierQueries
    printing: object
    new_tracking: Callable[[], str] = staticmethod(tracking.new)

    def deposit(self, branch_id: int, type_code: str, insured_number: str,
                national_id: str | None, declared: list[str], event_date: date | None,
                language: str, channel: str, actor: Actor, idempotency_key: str | None = None,
                ticket_id: int | None = None, printer: str | None = None,
                base_url: str = "") -> Deposited:
        q = self.dossiers
        if idempotency_key:
            with self.writer.db.read() as conn:
                earlier = store.by_key(conn, branch_id, idempotency_key)
            if earlier is not None:
                return Deposited(earlier, False)
        checked = q.check(branch_id, type_code, insured_number, national_id, declared,
                          event_date)
        t = q.config.type(type_code)
        insured = ids.validate_insured(insured_number, q.insured)
        nat = ids.validate_national(national_id, q.national) if national_id else None
        declared = list(dict.fromkeys(declared))

        def step(uow, p):
            if language not in p.branch.languages:
                raise NotAllowed("language_not_offered", language=language,
                                 choices=p.branch.languages)
            if ticket_id is not None and p.ticket(ticket_id) is None \
                    and repo.get_ticket(uow.conn, branch_id, ticket_id) is None:
                raise NotFound("ticket_not_found", ticket=ticket_id)
            x = Dossier(
                id=None, tracking=self.new_tracking(), type_code=t.code,
                status=DossierStatus.DEPOSITED, insured_number=insured,
                insured_masked=ids.mask(insured),
                national_id_hash=ids.digest(nat, q.key) if nat else None,
                national_id_masked=ids.mask(nat) if nat else None,
                language=language, channel=channel, day=p.day, deposited_at=uow.now,
                declared=tuple(declared),
                missing=tuple(m["code"] for m in checked["missing"]),
                event_date=event_date, deadlines=tuple(checked["deadlines"]),
                box=t.box, ticket_id=ticket_id, updated_at=uow.now)
            change = lifecycle.deposit(x, uow.now, actor)
            did = store.insert_dossier(uow.conn, branch_id, x, idempotency_key)
            x = replace(x, id=did)
            uow.add(*(replace(e, data={**e.data, "dossier_id": did}) for e in change.events))
            printing = None
            if printer is not None:
                doc = q.receipt_document(p.branch, x, f"{base_url}/d/{x.tracking}",
                                         self.printing.header_lines,
                                         self.printing.footer_lines)
                printing = self.add_job(uow, p, "deposit", printer, doc, dossier_id=did)
            return Deposited(x, True, printing)

        for _ in range(MAX_TRACKING_DRAWS):
            try:
                done = self.writer.run(branch_id, step)[0]
            except IntegrityError:
                if idempotency_key:  # the same tap arrived twice at once: the first won
                    with self.writer.db.read() as conn:
                        earlier = store.by_key(conn, branch_id, idempotency_key)
                    if earlier is not None:
                        return Deposited(earlier, False)
                log.info("tracking number collision: drawing another")
                continue
            x = done.dossier
            log.info("dossier deposited (%s, insured %s, %d missing)", x.type_code,
                     x.insured_masked, len(x.missing))
            return done
        raise Conflict("tracking_busy")

    def dossier_transition(self, branch_id: int, value: str, action: str, actor: Actor,
                           missing: list[str] | None = None,
                           reason: str | None = None, note: str | None = None) -> Dossier:
        q = self.dossiers

        def step(uow, p):
            _b, before = q.find(uow.conn, branch_id, value)
            t = q.config.types.get(before.type_code)
            known = {d.code for d in t.documents} if t else None
            change = lifecycle.transition(before, action, uow.now, actor, missing, reason, known,
                                          note)
            if not store.save(uow.conn, before, change.dossier):
                raise InvalidTransition("dossier_changed", tracking=before.tracking)
            uow.add(*change.events)
            return change.dossier
        return self.writer.run(branch_id, step)[0]

    def open_dossier(self, branch_id: int, value: str, actor: Actor) -> dict:
        """The full dossier for staff; every opening is an audit row."""
        q = self.dossiers
        with self.writer.db.write() as conn:
            _b, x = q.find(conn, branch_id, value)
            store.audit(conn, branch_id, x.id, self.writer.clock(), actor.label, "opened")
            tz = repo.load_branch(conn, branch_id).timezone
            hist = store.history(conn, branch_id, x)
            acc = store.accesses(conn, x.id)
            arrived = sync_read.arrived(conn, "dossier", x.id)
        log.info("dossier opened by %s", actor.label)
        return q.staff_view(x, tz) | {
            "history": [h | {"at": local_iso(h["at"], tz)} for h in hist],
            "opened_by": [a | {"at": local_iso(a["at"], tz)} for a in acc],
            # a site's dossier (README "Sites that work offline"): when it reached the centre
            "arrived": {"first": local_iso(arrived[0], tz), "last": local_iso(arrived[1], tz)}
            if arrived else None}
