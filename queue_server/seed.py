"""Seed the database from config/ on first start, and the first admin account."""
from __future__ import annotations

import secrets
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update

from .db import schema as s
from .db.database import Database
from .db.repo import policy_from
from .engine.model import LANGUAGES

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "branches.toml"


class ConfigError(Exception):
    pass


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read the branch configuration {path}: {exc}") from exc


def load_config(path: Path) -> list[dict]:
    data = _read(path)
    branches = data.get("branch") or []
    if not branches:
        raise ConfigError(f"{path} defines no [[branch]]")
    regions = load_regions(path, data)
    for b in branches:
        _check_branch(b, path)
        if b.get("region") is not None and b["region"] not in regions:
            raise ConfigError(f"{path}, branch {b['code']}: region {b['region']!r} is not in "
                              f"[regions] ({', '.join(regions) or 'none defined'})")
    return branches


def load_regions(path: Path, data: dict | None = None) -> dict[str, dict]:
    """The file's [regions]: code -> names ({"ar": ..., "fr": ..., "en": ...}), in order."""
    data = _read(path) if data is None else data
    regions = data.get("regions") or {}
    if not isinstance(regions, dict):
        raise ConfigError(f"{path}: [regions] must be a table of code = {{ ar, fr, en }}")
    for code, names in regions.items():
        if not isinstance(names, dict) or not names or len(code) > 40:
            raise ConfigError(f"{path}: region {code!r} needs names, e.g. "
                              f"{code} = {{ ar = \"...\", fr = \"...\", en = \"...\" }}")
    return regions


def seed_regions(db: Database, regions: dict[str, dict], branches: list[dict]) -> None:
    """Regions are file data (no page edits them): the file's names win at every start,
    and each branch the file names takes the file's region."""
    with db.write() as conn:
        known = {r.code for r in conn.execute(select(s.regions.c.code))}
        for pos, (code, names) in enumerate(regions.items()):
            if code in known:
                conn.execute(update(s.regions).where(s.regions.c.code == code)
                             .values(names=names, position=pos))
            else:
                conn.execute(insert(s.regions).values(code=code, names=names, position=pos))
        for b in branches:
            conn.execute(update(s.branches).where(s.branches.c.code == b["code"])
                         .values(region=b.get("region")))


def _check_branch(b: dict, path: Path) -> None:
    where = f"{path}, branch {b.get('code', '?')}"
    for key in ("code", "timezone", "names", "service", "counter"):
        if key not in b:
            raise ConfigError(f"{where}: '{key}' is missing")
    try:
        ZoneInfo(b["timezone"])
    except Exception as exc:
        raise ConfigError(f"{where}: unknown time zone {b['timezone']!r}") from exc
    for lang in b.get("languages", ["ar", "fr", "en"]):
        if lang not in LANGUAGES:
            raise ConfigError(f"{where}: language {lang!r} is not one of {LANGUAGES}")
    policy_from(b.get("policy", {}))  # unknown keys are ignored, bad types fail later loudly
    prefixes = [sv["prefix"] for sv in b["service"]]
    if len(set(prefixes)) != len(prefixes):
        raise ConfigError(f"{where}: two services share a prefix")
    for c in b["counter"]:
        unknown = set(c["services"]) - set(prefixes)
        if unknown:
            raise ConfigError(f"{where}: counter {c['number']} serves unknown services {unknown}")


def config_zones(b: dict) -> list[dict]:
    """A branch's [[branch.display]] zones as the database keeps them."""
    out = []
    for d in b.get("display") or []:
        name = str(d.get("zone", "")).strip()
        if name:
            out.append({"name": name, "services": [str(x) for x in d.get("services") or []],
                        "counters": [int(x) for x in d.get("counters") or []]})
    return out


def seed(db: Database, branches: list[dict]) -> list[int]:
    """Create the branches that are not in the database yet. Returns their ids.

    Display zones come from the file once (a database made before they moved there
    gets them at its next start); after that /admin/ edits them."""
    created = []
    with db.write() as conn:
        for b in branches:
            known = conn.execute(select(s.branches.c.id, s.branches.c.display_zones)
                                 .where(s.branches.c.code == b["code"])).first()
            if known:
                if known.display_zones is None:
                    conn.execute(update(s.branches).where(s.branches.c.id == known.id)
                                 .values(display_zones=config_zones(b)))
                continue
            bid = conn.execute(insert(s.branches).values(
                code=b["code"], names=b["names"], timezone=b["timezone"],
                languages=b.get("languages", ["ar", "fr", "en"]),
                display_languages=b.get("display_languages", ["ar", "fr"]),
                policy=b.get("policy", {}),
                outcomes=b.get("outcomes", ["served"]),
                display_zones=config_zones(b), region=b.get("region"),
            )).inserted_primary_key[0]
            svc_ids = {}
            for pos, sv in enumerate(b["service"]):
                svc_ids[sv["prefix"]] = conn.execute(insert(s.services).values(
                    branch_id=bid, prefix=sv["prefix"], names=sv["names"],
                    target_wait_minutes=sv.get("target_wait_minutes", 20),
                    icon=sv.get("icon", "ticket"), active=sv.get("active", True), position=pos,
                    prior_minutes=sv.get("prior_service_minutes"),
                    prior_sd_minutes=sv.get("prior_service_sd_minutes"),
                )).inserted_primary_key[0]
            for c in b["counter"]:
                cid = conn.execute(insert(s.counters).values(
                    branch_id=bid, number=c["number"], name=c.get("name", f"Counter {c['number']}"),
                    state="closed")).inserted_primary_key[0]
                for rank, prefix in enumerate(c["services"]):
                    conn.execute(insert(s.counter_services).values(
                        counter_id=cid, service_id=svc_ids[prefix], rank=rank))
            created.append(bid)
    return created


def ensure_admin(auth, db: Database, password: str | None) -> str | None:
    """Create the first admin if there is no user. Returns a generated password
    (to print once) or None."""
    if auth.has_users():
        return None
    with db.read() as conn:
        branch_id = conn.execute(select(s.branches.c.id).order_by(s.branches.c.id)).scalar()
    generated = None
    if not password:
        password = generated = secrets.token_urlsafe(12)
    auth.create_user(branch_id, "admin", password, "admin", "Administrator")
    return generated
