"""The read side of sites that work offline (README "Sites that work offline").

At the site: the batches it sends up (its events after what the centre acknowledged,
with the rows they name, as plain JSON) and its sync status for /admin/.
At the centre: what goes down to a site (its branch's configuration, its staff, the
back office's decisions on its dossiers), the sites' states, and when a synced row
arrived.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ..db import repo
from ..db import schema as s
from ..db.sites_schema import site_batches, site_devices, site_link, site_rows, sites
from ..dossiers.schema import dossiers as d
from ..engine import syncrules
from .presenters import local_iso

DECISIONS = ("dossier_received", "dossier_in_review", "dossier_incomplete",
             "dossier_accepted", "dossier_paid", "dossier_closed", "dossier_rejected")
_TICKET_SKIP = {"branch_id", "idempotency_key", "version"}
_DOSSIER_SKIP = {"branch_id"}


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _row(r, skip) -> dict:
    return {k: _plain(v) for k, v in r._mapping.items() if k not in skip}


# --- the site ------------------------------------------------------------------------

def link(db, branch_id: int):
    with db.read() as conn:
        return conn.execute(select(site_link).where(site_link.c.branch_id == branch_id)).first()


def pending(db, branch_id: int, after: int) -> int:
    with db.read() as conn:
        return max(0, repo.current_seq(conn, branch_id) - after)


def batch_ranges(db, branch_id: int, after: int,
                 size: int = syncrules.BATCH_EVENTS) -> list[tuple[int, int]]:
    with db.read() as conn:
        last = repo.current_seq(conn, branch_id)
    return syncrules.batches(list(range(after + 1, last + 1)), size)


def build_batch(db, branch_id: int, first: int, last: int) -> dict:
    """The site's events first..last and, as they are now, every row they name."""
    with db.read() as conn:
        branch = repo.load_branch(conn, branch_id)
        rows = list(conn.execute(select(s.events).where(
            s.events.c.branch_id == branch_id, s.events.c.seq >= first,
            s.events.c.seq <= last).order_by(s.events.c.seq)))
        events, ticket_ids, dossier_ids = [], set(), set()
        for r in rows:
            data = dict(r.data or {})
            events.append({"seq": r.seq, "type": r.type, "at": _plain(r.at), "actor": r.actor,
                           "ticket_id": r.ticket_id, "counter_id": r.counter_id,
                           "service_id": r.service_id, "data": data})
            if r.ticket_id is not None:
                ticket_ids.add(r.ticket_id)
            if isinstance(data.get("ticket_id"), int):
                ticket_ids.add(data["ticket_id"])
            if isinstance(data.get("dossier_id"), int):
                dossier_ids.add(data["dossier_id"])
        dossiers = [_row(r, _DOSSIER_SKIP) for r in conn.execute(
            select(d).where(d.c.branch_id == branch_id, d.c.id.in_(dossier_ids)))] \
            if dossier_ids else []
        counter_rows = [{"number": r.number, "state": r.state,
                         "current_ticket_id": r.current_ticket_id,
                         "priority_streak": r.priority_streak,
                         "updated_at": _plain(r.updated_at), "id": r.id}
                        for r in conn.execute(select(s.counters).where(
                            s.counters.c.branch_id == branch_id))]
        # a dossier's ticket and a counter's current ticket are named by the batch too
        ticket_ids |= {x["ticket_id"] for x in dossiers if x.get("ticket_id") is not None}
        ticket_ids |= {c["current_ticket_id"] for c in counter_rows
                       if c["current_ticket_id"] is not None}
        tickets = [_row(r, _TICKET_SKIP) for r in conn.execute(
            select(s.tickets).where(s.tickets.c.branch_id == branch_id,
                                    s.tickets.c.id.in_(ticket_ids)).order_by(s.tickets.c.id))] \
            if ticket_ids else []
        services = {str(r.id): r.prefix for r in conn.execute(
            select(s.services.c.id, s.services.c.prefix)
            .where(s.services.c.branch_id == branch_id))}
        devices = [{"id": r.id, "role": r.role, "name": r.name,
                    "revoked_at": _plain(r.revoked_at)}
                   for r in conn.execute(select(s.tokens).where(
                       s.tokens.c.branch_id == branch_id, s.tokens.c.kind == "device",
                       s.tokens.c.role != "site").order_by(s.tokens.c.id))]
    return {"devices": devices, "branch": branch.code, "first_seq": first, "last_seq": last, "events": events,
            "tickets": tickets, "dossiers": dossiers, "counter_rows": counter_rows,
            "services": services,
            "counters_by_id": {str(c["id"]): c["number"] for c in counter_rows}}


def site_status(db, branch_id: int) -> dict | None:
    """The site's /admin/ block: when it last synced, what is pending."""
    row = link(db, branch_id)
    if row is None:
        return None
    with db.read() as conn:
        tz = repo.load_branch(conn, branch_id).timezone
    return {"centre": row.centre_url, "tag": row.tag, "acked_seq": row.acked_seq,
            "pending_events": pending(db, branch_id, row.acked_seq),
            # in the branch's own time, as every staff page shows times
            "last_sync_at": local_iso(row.last_sync_at, tz),
            "last_attempt_at": local_iso(row.last_attempt_at, tz), "last_error": row.last_error,
            "last_result": row.last_result, "down_seq": row.down_seq}


# --- the centre ----------------------------------------------------------------------

def site_of(db, branch_id: int):
    with db.read() as conn:
        return conn.execute(select(sites).where(sites.c.branch_id == branch_id)).first()


def down(db, branch_id: int, after: int) -> dict:
    """What a site gets from the centre: its configuration, its staff and every decision
    the back office made on its dossiers after ``after`` (the centre's sequence)."""
    with db.read() as conn:
        config = config_of(conn, branch_id)
        users = [{"username": r.username, "password_hash": r.password_hash, "role": r.role,
                  "display_name": r.display_name, "active": bool(r.active)}
                 for r in conn.execute(select(s.users).where(s.users.c.branch_id == branch_id))]
        cursor = repo.current_seq(conn, branch_id)
        changed: dict[int, int] = {}
        for r in conn.execute(select(s.events.c.seq, s.events.c.data).where(
                s.events.c.branch_id == branch_id, s.events.c.seq > after,
                s.events.c.seq <= cursor, s.events.c.type.in_(DECISIONS))):
            data = r.data or {}
            if "site_seq" in data or not isinstance(data.get("dossier_id"), int):
                continue  # the site's own change, come back: not a decision of the centre
            changed[data["dossier_id"]] = r.seq
        decisions = []
        if changed:
            for x in conn.execute(select(d).where(d.c.branch_id == branch_id,
                                                  d.c.id.in_(list(changed)))):
                decisions.append({
                    "seq": changed[x.id], "tracking": x.tracking, "status": x.status,
                    "missing": list(x.missing or []), "reason": x.reason,
                    "at": _plain(x.updated_at or x.deposited_at),
                    **{k: _plain(getattr(x, k)) for k in
                       ("received_at", "review_at", "decided_at", "paid_at", "closed_at")}})
        site = conn.execute(select(sites).where(sites.c.branch_id == branch_id)).first()
        revoke = [r.site_token_id for r in conn.execute(select(site_devices.c.site_token_id)
                  .where(site_devices.c.branch_id == branch_id,
                         site_devices.c.revoke_asked_at.is_not(None),
                         site_devices.c.revoked_at.is_(None)))]
    return {"revoked_site_tokens": revoke, "branch": config["code"], "tag": site.tag if site else None,
            "acked_seq": site.acked_seq if site else 0, "cursor": cursor,
            "config": config, "users": users,
            "decisions": sorted(decisions, key=lambda x: x["seq"])}


def config_of(conn, branch_id: int) -> dict:
    """A branch's configuration as it travels down (and as the site compares it)."""
    b = conn.execute(select(s.branches).where(s.branches.c.id == branch_id)).first()
    svc = list(conn.execute(select(s.services).where(s.services.c.branch_id == branch_id)
                            .order_by(s.services.c.position, s.services.c.prefix)))
    prefix = {r.id: r.prefix for r in svc}
    skills: dict[int, list] = {}
    for r in conn.execute(select(s.counter_services).join(
            s.counters, s.counters.c.id == s.counter_services.c.counter_id)
            .where(s.counters.c.branch_id == branch_id)
            .order_by(s.counter_services.c.rank)):
        skills.setdefault(r.counter_id, []).append(prefix.get(r.service_id))
    counters = [{"number": r.number, "name": r.name, "services": skills.get(r.id, [])}
                for r in conn.execute(select(s.counters).where(
                    s.counters.c.branch_id == branch_id).order_by(s.counters.c.number))]
    config = {
        "code": b.code, "names": b.names, "timezone": b.timezone,
        "languages": list(b.languages), "display_languages": list(b.display_languages),
        "policy": b.policy, "outcomes": list(b.outcomes), "schedule": b.schedule,
        "display_zones": b.display_zones,
        "services": [{"prefix": r.prefix, "names": r.names,
                      "target_wait_minutes": r.target_wait_minutes, "icon": r.icon,
                      "active": bool(r.active), "prior_minutes": r.prior_minutes,
                      "prior_sd_minutes": r.prior_sd_minutes, "cutoff": r.cutoff}
                     for r in svc],
        "counters": counters}
    return config


def seed_entry(config: dict) -> dict:
    """The down configuration as a [[branch]] of config/branches.toml (seed.py)."""
    return {"code": config["code"], "names": config["names"], "timezone": config["timezone"],
            "languages": config["languages"], "display_languages": config["display_languages"],
            "policy": config["policy"], "outcomes": config["outcomes"],
            "service": [{"prefix": sv["prefix"], "names": sv["names"], "icon": sv["icon"],
                         "target_wait_minutes": sv["target_wait_minutes"],
                         "active": sv["active"], "prior_service_minutes": sv["prior_minutes"],
                         "prior_service_sd_minutes": sv["prior_sd_minutes"]}
                        for sv in config["services"]],
            "counter": [{"number": c["number"], "name": c["name"], "services": c["services"]}
                        for c in config["counters"]],
            "display": [{"zone": z["name"], "services": z.get("services", []),
                         "counters": z.get("counters", [])}
                        for z in config.get("display_zones") or []]}


def sites_overview(db) -> list[dict]:
    """The centre's sites: what each sent, when, its clock."""
    with db.read() as conn:
        out = []
        for r in conn.execute(select(sites, s.branches.c.code).join(
                s.branches, s.branches.c.id == sites.c.branch_id).order_by(s.branches.c.code)):
            n = conn.execute(select(func.count()).select_from(site_batches)
                             .where(site_batches.c.branch_id == r.branch_id)).scalar()
            out.append({"branch": r.code, "tag": r.tag, "acked_seq": r.acked_seq,
                        "batches": n, "last_batch_at": _plain(r.last_batch_at),
                        "last_pull_at": _plain(r.last_pull_at),
                        "clock_skew_s": r.clock_skew_s,
                        "clock_off": r.clock_skew_s is not None
                        and syncrules.clock_off(r.clock_skew_s)})
        return out


def devices_of(db, branch_id: int) -> list[dict]:
    """A site's devices as its last batch listed them (the centre's admin page, API)."""
    with db.read() as conn:
        return [{"site_token_id": r.site_token_id, "role": r.role, "name": r.name,
                 "revoked": r.revoked_at is not None,
                 "revoke_asked_at": _plain(r.revoke_asked_at), "synced_at": _plain(r.synced_at)}
                for r in conn.execute(select(site_devices).where(
                    site_devices.c.branch_id == branch_id)
                    .order_by(site_devices.c.site_token_id))]


def arrived(conn, kind: str, centre_id: int):
    """When the centre got a site's row (None: not a site's)."""
    r = conn.execute(select(site_rows.c.first_synced_at, site_rows.c.synced_at).where(
        site_rows.c.kind == kind, site_rows.c.centre_id == centre_id)).first()
    return (r.first_synced_at, r.synced_at) if r else None
