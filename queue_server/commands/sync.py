"""Sites that work offline (README "Sites that work offline"): the write side of their sync.

At the centre:
- ``register_site``: a branch becomes a site: a tracking-number tag and a credential
  (a device token of role ``site``, revocable like any device);
- ``apply_batch``: a batch of the site's events and the rows they name, applied in ONE
  transaction, idempotent on (site, site sequence); the site's autoincrement ids never
  become the centre's (``site_rows`` maps them), its times are kept as it recorded them.

At the site:
- ``apply_down``: the branch configuration, the site's users and the centre's decisions
  on its dossiers, applied in one transaction; the centre's review status wins;
- ``bring_documents``: documents a visitor brings for a dossier after its deposit (an
  event of the dossier, sent up like any other);
- ``note_sync``: what the last sync did (the site's /admin/ page shows it).
"""
from __future__ import annotations

import logging
import secrets
from datetime import datetime, timezone

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from ..db import repo
from ..db import schema as s
from ..db.sites_schema import site_batches, site_devices, site_link, site_rows, sites
from ..dossiers import store, tracking
from ..dossiers.schema import dossiers as d
from ..engine import syncrules
from ..engine.errors import Conflict, DomainError, NotAllowed, NotFound
from ..engine.messages import N_, register
from ..engine.model import Actor, Event

log = logging.getLogger("tabour.sync")

register({
    "sync_checksum": N_("The batch's checksum does not match its content (altered or cut "
                        "on the way): nothing was applied. The site sends it again."),
    "sync_malformed": N_("The batch is not valid: %(problem)s. Nothing was applied."),
    "sync_gap": N_("The centre has the site's events up to %(acked)s and this batch starts "
                   "at %(first)s: send from %(next)s. Nothing was applied."),
    "sync_other_branch": N_("This site may sync its own branch (%(own)s) only, not %(branch)s."),
    "site_revoked": N_("This site's credential was revoked at the centre: nothing was "
                       "applied. Ask the centre's administrator for a new one."),
    "site_not_registered": N_("Branch %(branch)s is not registered as a site at the centre."),
    "site_tags_exhausted": N_("No site tag is left for a new site."),
    "site_clock_off": N_("The site's clock is off by %(minutes)s minutes: the times it "
                         "recorded are kept as they are, the order is the site's; set its "
                         "clock."),
    "sync_conflict": N_("The centre already has a row this batch would create (%(problem)s): "
                        "nothing was applied."),
    "dossier_documents_none": N_("Say which documents the visitor brought."),
})


class SyncRefused(DomainError):
    """A batch that is not what it says (checksum, shape): 400."""

    kind = code = "bad_request"


class SyncForbidden(DomainError):
    """A site outside its own branch, a revoked site: 403."""

    kind = code = "forbidden"


# event types the centre keeps from a site: its queue and its dossiers. Configuration,
# devices, printing and alerts stay on the site (the centre owns configuration).
KEPT_PREFIXES = ("ticket_", "counter_", "dossier_")
NOT_KEPT = frozenset({"counter_configured", "dossier_centre_decision"})
SERVICE_KEYS = ("service_id", "from_service_id", "to_service_id")
COUNTER_KEYS = ("counter_id", "to_counter_id", "from_counter_id", "target_counter_id")
TICKET_FIELDS = ("number", "code", "day", "status", "priority", "channel", "language",
                 "issued_at", "queued_at", "front", "called_at", "started_at", "finished_at",
                 "recall_count", "recycled", "transfer_count", "outcome", "note",
                 "printed_wait_minutes", "printed_people_ahead")
TIME_FIELDS = {"issued_at", "queued_at", "called_at", "started_at", "finished_at",
               "deposited_at", "received_at", "review_at", "decided_at", "paid_at",
               "closed_at", "updated_at", "at"}
DOSSIER_FIELDS = ("tracking", "type_code", "status", "insured_number", "insured_masked",
                  "national_id_hash", "national_id_masked", "language", "channel", "day",
                  "declared", "missing", "event_date", "deadlines", "box", "deposited_at",
                  "received_at", "review_at", "decided_at", "paid_at", "closed_at",
                  "updated_at", "reason", "internal_note", "idempotency_key")
# the centre's decisions on a dossier the site learns at its next sync
DECISIONS = ("dossier_received", "dossier_in_review", "dossier_incomplete",
             "dossier_accepted", "dossier_paid", "dossier_closed", "dossier_rejected")


_U_TICKET_SYNC = (update(s.tickets).where(s.tickets.c.id == bindparam("c_id"))
                  .values(version=s.tickets.c.version + 1,
                          **{f: bindparam(f) for f in (*TICKET_FIELDS, "service_id",
                                                       "counter_id", "target_counter_id")}))


def parse_time(value):
    if value is None:
        return None
    t = datetime.fromisoformat(value)
    if t.tzinfo is None:
        raise ValueError(f"a time without its zone: {value}")
    return t.astimezone(timezone.utc)


def _times(row: dict) -> dict:
    return {k: (parse_time(v) if k in TIME_FIELDS else v) for k, v in row.items()}


class SyncCommands:
    writer: object

    # --- the centre ------------------------------------------------------------------

    def register_site(self, branch_id: int, name: str, actor: Actor) -> dict:
        """Make a branch a site: its tag and its credential (shown once)."""
        now = self.writer.clock()
        with self.writer.db.write() as conn:
            if repo.load_branch(conn, branch_id) is None:
                raise NotFound("branch_not_found", branch=branch_id)
            known = conn.execute(select(sites).where(sites.c.branch_id == branch_id)).first()
            taken = {r.tag for r in conn.execute(select(sites.c.tag))}
            tag = known.tag if known else None
            if tag is None:
                free = [a + b for a in tracking.SITE_FIRST for b in tracking.ALPHABET
                        if a + b not in taken]
                if not free:
                    raise Conflict("site_tags_exhausted")
                tag = free[secrets.randbelow(len(free))]
            token, token_id = self.auth.insert_token(conn, branch_id, "device", "site", name,
                                                     None, None)
            if known:  # a new credential: the old one is revoked
                if known.token_id is not None:
                    conn.execute(update(s.tokens).where(s.tokens.c.id == known.token_id)
                                 .values(revoked_at=now))
                conn.execute(update(sites).where(sites.c.branch_id == branch_id)
                             .values(token_id=token_id))
            else:
                conn.execute(insert(sites).values(branch_id=branch_id, tag=tag,
                                                  token_id=token_id, created_at=now))
            repo.append_events(conn, branch_id, [Event(
                "device_created", now, actor, data={"token_id": token_id, "role": "site",
                                                    "name": name, "tag": tag})])
        if known and known.token_id is not None:
            self.auth.forget(token_id=known.token_id)
        self.writer.projections.forget(branch_id)
        return {"token": token, "token_id": token_id, "tag": tag}

    def apply_batch(self, branch_id: int, site_now: datetime, given: str,
                    payload: dict) -> dict:
        """Apply one batch of a site's events (see engine/syncrules.py for the rules)."""
        if syncrules.checksum(payload) != given:
            raise SyncRefused("sync_checksum")
        try:
            first, last = int(payload["first_seq"]), int(payload["last_seq"])
            events = payload["events"]
            seqs = [int(e["seq"]) for e in events]
            syncrules.decide(0, first, last)
        except (KeyError, TypeError, ValueError) as exc:
            raise SyncRefused("sync_malformed", problem=str(exc)) from None
        if seqs != list(range(first, last + 1)):
            raise SyncRefused("sync_malformed",
                              problem=f"events must be {first}..{last}, one each, in order")
        now = self.writer.clock()
        skew = syncrules.clock_skew_s(site_now, now)
        try:
            with self.writer.db.write() as conn:
                repo.reserve_seq(conn, branch_id, 0)  # the branch's lock: one batch at a time
                site = conn.execute(select(sites).where(sites.c.branch_id == branch_id)
                                    .with_for_update()).first()
                if site is None:
                    raise NotFound("site_not_registered", branch=branch_id)
                verdict = syncrules.decide(site.acked_seq, first, last)
                conn.execute(update(sites).where(sites.c.branch_id == branch_id)
                             .values(clock_skew_s=skew, last_batch_at=now))
                if verdict == syncrules.GAP:
                    raise Conflict("sync_gap", acked=site.acked_seq, first=first,
                                   next=site.acked_seq + 1)
                if verdict == syncrules.DUPLICATE:
                    return {"acked_seq": site.acked_seq, "applied": 0, "duplicate": True,
                            "clock_skew_s": skew}
                try:
                    stored = self._apply(conn, branch_id, site.acked_seq, payload, now)
                except (KeyError, TypeError, ValueError) as exc:
                    raise SyncRefused("sync_malformed", problem=str(exc)) from None
                conn.execute(update(sites).where(sites.c.branch_id == branch_id)
                             .values(acked_seq=last))
                conn.execute(insert(site_batches).values(
                    branch_id=branch_id, first_seq=first, last_seq=last, checksum=given,
                    events=len(stored), received_at=now, site_now=site_now,
                    centre_first_seq=stored[0][0] if stored else None,
                    centre_last_seq=stored[-1][0] if stored else None))
        except IntegrityError as exc:
            raise Conflict("sync_conflict", problem=str(exc.orig).splitlines()[0][:200]) \
                from None
        except DataError as exc:  # a value the column cannot hold (PostgreSQL)
            raise SyncRefused("sync_malformed",
                              problem=str(exc.orig).splitlines()[0][:200]) from None
        except StatementError as exc:
            if isinstance(exc, DBAPIError):
                raise  # the database itself (down, restarting): 503 like any request
            raise SyncRefused("sync_malformed", problem=str(exc.orig)[:200]) from None
        self.writer.projections.forget(branch_id)  # rebuilt from the database when read
        log.info("site batch %s..%s of branch %s applied (%d events kept, clock %+ds)",
                 first, last, branch_id, len(stored), skew)
        return {"acked_seq": last, "applied": len(stored), "duplicate": False,
                "clock_skew_s": skew}

    def _apply(self, conn, branch_id: int, acked: int, payload: dict, now) -> list:
        services = {r.prefix: r.id for r in conn.execute(
            select(s.services.c.id, s.services.c.prefix).where(s.services.c.branch_id == branch_id))}
        counters = {r.number: r.id for r in conn.execute(
            select(s.counters.c.id, s.counters.c.number).where(s.counters.c.branch_id == branch_id))}
        svc = {int(k): services.get(v) for k, v in payload.get("services", {}).items()}
        ctr = {int(k): counters.get(v) for k, v in payload.get("counters_by_id", {}).items()}
        maps = {"ticket": {}, "dossier": {}}
        for kind in maps:
            ids = [int(r["id"]) for r in payload.get(kind + "s", [])]
            ids += [int(e["data"][kind + "_id"]) for e in payload["events"]
                    if isinstance((e.get("data") or {}).get(kind + "_id"), int)]
            ids += [int(e[kind + "_id"]) for e in payload["events"]
                    if e.get(kind + "_id") is not None]
            if ids:
                maps[kind] = {r.site_id: r.centre_id for r in conn.execute(
                    select(site_rows.c.site_id, site_rows.c.centre_id).where(
                        site_rows.c.branch_id == branch_id, site_rows.c.kind == kind,
                        site_rows.c.site_id.in_(set(ids))))}

        def service_of(site_id):
            if site_id is None:
                return None
            got = svc.get(int(site_id))
            if got is None:
                raise ValueError(f"service {site_id} of the site is unknown at the centre")
            return got

        def counter_of(site_id):
            return None if site_id is None else ctr.get(int(site_id))

        touched = {"ticket": [], "dossier": []}
        days: set[str] = set()
        fresh, stale = [], []
        for raw in payload.get("tickets", []):
            row = _times(raw)
            values = {f: row.get(f) for f in TICKET_FIELDS}
            values.update(service_id=service_of(row["service_id"]),
                          counter_id=counter_of(row.get("counter_id")),
                          target_counter_id=counter_of(row.get("target_counter_id")))
            days.add(values["day"])
            site_id = int(row["id"])
            centre_id = maps["ticket"].get(site_id)
            if centre_id is None:
                fresh.append((site_id, values))
            else:  # the site's queue belongs to the site: its latest state
                stale.append({"c_id": centre_id, **values})
                touched["ticket"].append(site_id)
        # a few statements per batch, not a few per row: one round trip each
        if fresh:
            got = conn.execute(insert(s.tickets).values(branch_id=branch_id).returning(
                s.tickets.c.id, sort_by_parameter_order=True), [v for _i, v in fresh]).all()
            self._mapped(conn, branch_id, "ticket", maps,
                         [(i, r.id) for (i, _v), r in zip(fresh, got)], now)
        if stale:
            conn.execute(_U_TICKET_SYNC, stale)
        fresh = []
        for raw in payload.get("dossiers", []):
            row = _times(raw)
            site_id = int(row["id"])
            if maps["dossier"].get(site_id) is None:
                values = {f: row.get(f) for f in DOSSIER_FIELDS}
                values["ticket_id"] = maps["ticket"].get(row.get("ticket_id")) \
                    if row.get("ticket_id") is not None else None
                fresh.append((site_id, values))
            else:
                # the centre's review status wins: a synced dossier changes at the centre
                # only through the events the site records about it (documents brought)
                touched["dossier"].append(site_id)
        if fresh:
            got = conn.execute(insert(d).values(branch_id=branch_id).returning(
                d.c.id, sort_by_parameter_order=True), [v for _i, v in fresh]).all()
            self._mapped(conn, branch_id, "dossier", maps,
                         [(i, r.id) for (i, _v), r in zip(fresh, got)], now)
        for kind, ids in touched.items():
            if ids:
                conn.execute(update(site_rows).where(
                    site_rows.c.branch_id == branch_id, site_rows.c.kind == kind,
                    site_rows.c.site_id.in_(ids)).values(synced_at=now))
        for raw in payload.get("counter_rows", []):
            cid = counters.get(int(raw["number"]))
            if cid is None:
                continue
            current = raw.get("current_ticket_id")
            conn.execute(update(s.counters).where(s.counters.c.id == cid).values(
                state=raw["state"], priority_streak=int(raw.get("priority_streak") or 0),
                current_ticket_id=maps["ticket"].get(current) if current is not None else None,
                updated_at=parse_time(raw.get("updated_at")),
                version=s.counters.c.version + 1))

        self._devices(conn, branch_id, payload.get("devices") or [], now)

        kept: list[Event] = []
        for e in payload["events"]:
            if int(e["seq"]) <= acked:
                continue  # already applied (a batch cut differently after an interruption)
            kind = e["type"]
            if not kind.startswith(KEPT_PREFIXES) or kind in NOT_KEPT:
                continue
            data = dict(e.get("data") or {})
            for k in SERVICE_KEYS:
                if data.get(k) is not None:
                    data[k] = svc.get(int(data[k]))
            for k in COUNTER_KEYS:
                if data.get(k) is not None:
                    data[k] = ctr.get(int(data[k]))
            if data.get("ticket_id") is not None:
                data["ticket_id"] = maps["ticket"].get(int(data["ticket_id"]))
            if data.get("dossier_id") is not None:
                data["dossier_id"] = maps["dossier"].get(int(data["dossier_id"]))
            data["site_seq"] = int(e["seq"])
            if kind == "dossier_documents_brought" and data.get("dossier_id") is not None:
                self._documents_brought(conn, data)
            label_kind, _, name = str(e.get("actor") or "system:").partition(":")
            ticket = e.get("ticket_id")
            kept.append(Event(kind, parse_time(e["at"]), Actor(label_kind, None, name),
                              ticket_id=maps["ticket"].get(int(ticket)) if ticket is not None
                              else None,
                              counter_id=counter_of(e.get("counter_id")),
                              service_id=svc.get(int(e["service_id"]))
                              if e.get("service_id") is not None else None,
                              data=data))
            if kind.startswith("ticket_") or kind.startswith("counter_"):
                days.add(parse_time(e["at"]).date().isoformat())
        stored = repo.append_events(conn, branch_id, kept)
        if days:
            # a day the centre had already summarised is summarised again when read
            from ..db.schema import report_days
            conn.execute(delete(report_days).where(report_days.c.branch_id == branch_id,
                                                   report_days.c.day.in_(sorted(days))))
        return stored

    @staticmethod
    def _mapped(conn, branch_id: int, kind: str, maps: dict, pairs: list, now) -> None:
        conn.execute(insert(site_rows), [
            {"branch_id": branch_id, "kind": kind, "site_id": site_id, "centre_id": centre_id,
             "first_synced_at": now, "synced_at": now} for site_id, centre_id in pairs])
        maps[kind].update(pairs)

    @staticmethod
    def _documents_brought(conn, data: dict) -> None:
        row = conn.execute(select(d.c.declared, d.c.missing)
                           .where(d.c.id == data["dossier_id"])).first()
        if row is None:
            return
        brought = [str(x) for x in data.get("documents") or []]
        declared = list(dict.fromkeys([*(row.declared or []), *brought]))
        missing = [m for m in (row.missing or []) if m not in brought]
        conn.execute(update(d).where(d.c.id == data["dossier_id"])
                     .values(declared=declared, missing=missing))

    @staticmethod
    def _devices(conn, branch_id: int, devices: list, now) -> None:
        known = {r.site_token_id for r in conn.execute(select(site_devices.c.site_token_id)
                 .where(site_devices.c.branch_id == branch_id))}
        for dev in devices:
            values = {"role": str(dev["role"])[:16], "name": str(dev["name"])[:120],
                      "revoked_at": parse_time(dev.get("revoked_at")), "synced_at": now}
            if int(dev["id"]) in known:
                conn.execute(update(site_devices).where(
                    site_devices.c.branch_id == branch_id,
                    site_devices.c.site_token_id == int(dev["id"])).values(**values))
            else:
                conn.execute(insert(site_devices).values(
                    branch_id=branch_id, site_token_id=int(dev["id"]), **values))

    def revoke_site_device(self, branch_id: int, site_token_id: int, actor: Actor) -> None:
        """The centre asks a site to revoke one of its devices (done at its next sync)."""
        now = self.writer.clock()
        with self.writer.db.write() as conn:
            done = conn.execute(update(site_devices).where(
                site_devices.c.branch_id == branch_id,
                site_devices.c.site_token_id == site_token_id).values(revoke_asked_at=now))
            if done.rowcount != 1:
                raise NotFound("device_not_found", token_id=site_token_id)
            repo.append_events(conn, branch_id, [Event(
                "site_device_revoke_asked", now, actor,
                data={"site_token_id": site_token_id})])

    def note_pull(self, branch_id: int) -> None:
        with self.writer.db.write() as conn:
            conn.execute(update(sites).where(sites.c.branch_id == branch_id)
                         .values(last_pull_at=self.writer.clock()))

    # --- the site --------------------------------------------------------------------

    def link_site(self, branch_id: int, centre_url: str, tag: str) -> None:
        with self.writer.db.write() as conn:
            known = conn.execute(select(site_link.c.branch_id)
                                 .where(site_link.c.branch_id == branch_id)).first()
            if known:
                conn.execute(update(site_link).where(site_link.c.branch_id == branch_id)
                             .values(centre_url=centre_url, tag=tag))
            else:
                conn.execute(insert(site_link).values(branch_id=branch_id,
                                                      centre_url=centre_url, tag=tag))

    def note_sync(self, branch_id: int, **values) -> None:
        with self.writer.db.write() as conn:
            conn.execute(update(site_link).where(site_link.c.branch_id == branch_id)
                         .values(**values))

    def apply_down(self, branch_id: int, down: dict, actor: Actor) -> dict:
        """The centre's word on the site's branch: configuration, users, decisions."""
        now = self.writer.clock()
        applied = {"decisions": 0, "users": 0, "config": False, "devices_revoked": 0}
        with self.writer.db.write() as conn:
            link = conn.execute(select(site_link).where(site_link.c.branch_id == branch_id)).first()
            events: list[Event] = []
            from ..readmodel.sync import config_of
            if down.get("config") and down["config"] != config_of(conn, branch_id):
                _config(conn, branch_id, down["config"])
                applied["config"] = True
                events.append(Event("branch_edited", now, actor, data={"from": "centre"}))
            for u in down.get("users", []):
                applied["users"] += _user(conn, branch_id, u, now)
            for dec in down.get("decisions", []):
                if link is not None and dec["seq"] <= link.down_seq:
                    continue
                row = conn.execute(select(d).where(d.c.tracking == dec["tracking"],
                                                   d.c.branch_id == branch_id)).first()
                if row is None:
                    continue
                before = store.from_row(row)
                values = {"status": dec["status"], "missing": list(dec.get("missing") or []),
                          "reason": dec.get("reason"), "updated_at": parse_time(dec["at"])}
                for k in ("received_at", "review_at", "decided_at", "paid_at", "closed_at"):
                    if dec.get(k):
                        values[k] = parse_time(dec[k])
                conn.execute(update(d).where(d.c.id == row.id).values(**values))
                events.append(Event("dossier_centre_decision", now, actor,
                                    ticket_id=row.ticket_id,
                                    data={"dossier_id": row.id, "tracking": row.tracking,
                                          "type": row.type_code, "status": dec["status"],
                                          "previous": before.status.value,
                                          "missing": values["missing"],
                                          "centre_seq": dec["seq"], "centre_at": dec["at"]}))
                applied["decisions"] += 1
            if down.get("cursor") is not None:
                conn.execute(update(site_link).where(site_link.c.branch_id == branch_id)
                             .values(down_seq=int(down["cursor"])))
            revoked = []
            if down.get("revoked_site_tokens"):
                revoked = [r.id for r in conn.execute(select(s.tokens.c.id).where(
                    s.tokens.c.branch_id == branch_id, s.tokens.c.revoked_at.is_(None),
                    s.tokens.c.kind == "device", s.tokens.c.role != "site",
                    s.tokens.c.id.in_([int(x) for x in down["revoked_site_tokens"]])))]
            if revoked:
                conn.execute(update(s.tokens).where(s.tokens.c.id.in_(revoked))
                             .values(revoked_at=now))
                # every process of the site forgets them (auth.on_batch)
                events += [Event("device_revoked", now, actor,
                                 data={"token_id": x, "from": "centre"}) for x in revoked]
                applied["devices_revoked"] = len(revoked)
            repo.append_events(conn, branch_id, events)
        for x in revoked:
            self.auth.forget(token_id=x)
        self.writer.projections.forget(branch_id)
        return applied

    def bring_documents(self, branch_id: int, value: str, documents: list[str],
                        actor: Actor):
        """A visitor brings documents for a dossier already deposited (at a site: after
        its sync too). Its status is not the site's to change: it records what came and
        takes it off the missing list; the centre reviews it."""
        q = self.dossiers
        documents = [str(x) for x in dict.fromkeys(documents or [])]
        if not documents:
            raise NotAllowed("dossier_documents_none")

        def step(uow, p):
            _b, before = q.find(uow.conn, branch_id, value)
            t = q.config.types.get(before.type_code)
            known = {x.code for x in t.documents} if t else set()
            unknown = [x for x in documents if x not in known]
            if unknown:
                raise NotAllowed("unknown_documents", documents=unknown, choices=sorted(known))
            declared = list(dict.fromkeys([*before.declared, *documents]))
            missing = [m for m in before.missing if m not in documents]
            uow.conn.execute(update(d).where(d.c.id == before.id).values(
                declared=declared, missing=missing, updated_at=uow.now))
            uow.add(Event("dossier_documents_brought", uow.now, actor,
                          ticket_id=before.ticket_id,
                          data={"dossier_id": before.id, "tracking": before.tracking,
                                "type": before.type_code, "status": before.status.value,
                                "documents": documents, "missing": missing}))
            return {"tracking": before.tracking, "missing": missing, "declared": declared}
        return self.writer.run(branch_id, step)[0]


def _config(conn, branch_id: int, cfg: dict) -> None:
    conn.execute(update(s.branches).where(s.branches.c.id == branch_id).values(
        names=cfg["names"], timezone=cfg["timezone"], languages=cfg["languages"],
        display_languages=cfg["display_languages"], policy=cfg["policy"],
        outcomes=cfg["outcomes"], schedule=cfg.get("schedule"),
        display_zones=cfg.get("display_zones")))
    services = {r.prefix: r.id for r in conn.execute(
        select(s.services.c.id, s.services.c.prefix).where(s.services.c.branch_id == branch_id))}
    for pos, sv in enumerate(cfg["services"]):
        values = {"names": sv["names"], "target_wait_minutes": sv["target_wait_minutes"],
                  "icon": sv["icon"], "active": sv["active"], "position": pos,
                  "prior_minutes": sv.get("prior_minutes"),
                  "prior_sd_minutes": sv.get("prior_sd_minutes"), "cutoff": sv.get("cutoff")}
        if sv["prefix"] in services:
            conn.execute(update(s.services).where(s.services.c.id == services[sv["prefix"]])
                         .values(**values))
        else:
            services[sv["prefix"]] = conn.execute(insert(s.services).values(
                branch_id=branch_id, prefix=sv["prefix"], **values)
                .returning(s.services.c.id)).scalar_one()
    counters = {r.number: r.id for r in conn.execute(
        select(s.counters.c.id, s.counters.c.number).where(s.counters.c.branch_id == branch_id))}
    for c in cfg["counters"]:
        cid = counters.get(c["number"])
        if cid is None:
            cid = conn.execute(insert(s.counters).values(
                branch_id=branch_id, number=c["number"], name=c["name"], state="closed")
                .returning(s.counters.c.id)).scalar_one()
        else:
            conn.execute(update(s.counters).where(s.counters.c.id == cid)
                         .values(name=c["name"], version=s.counters.c.version + 1))
        conn.execute(delete(s.counter_services).where(s.counter_services.c.counter_id == cid))
        rows = [{"counter_id": cid, "service_id": services[p], "rank": i}
                for i, p in enumerate(c["services"]) if p in services]
        if rows:
            conn.execute(insert(s.counter_services), rows)


_Q_USER = select(s.users.c.id, s.users.c.branch_id).where(s.users.c.username == bindparam("u"))


def _user(conn, branch_id: int, u: dict, now) -> int:
    """The centre's account of one of the site's staff: created or brought up to date."""
    row = conn.execute(_Q_USER, {"u": u["username"]}).first()
    values = {"password_hash": u["password_hash"], "role": u["role"],
              "display_name": u["display_name"], "active": bool(u["active"])}
    if row is None:
        conn.execute(insert(s.users).values(branch_id=branch_id, username=u["username"],
                                            created_at=now, **values))
        return 1
    if row.branch_id != branch_id:
        return 0  # a local account of another branch: never touched
    conn.execute(update(s.users).where(s.users.c.id == row.id).values(**values))
    return 1
