"""A site that works offline: its link to the centre (README "Sites that work offline").

The site runs the embedded default on its own branch. ``SiteLink.sync`` does one sync:

1. asks the centre what it has of the site (``GET /api/v1/sync/state``: its last
   acknowledged site sequence; a centre restored from a backup answers less, and the
   site sends again from there);
2. sends its events after that point in batches (``POST /api/v1/sync/batches``), each
   with its checksum; an interrupted batch is sent again whole and applied once;
3. pulls down its configuration, its staff and the centre's decisions on its dossiers
   (``GET /api/v1/sync/down``) and applies them (``commands.apply_down``).

It runs on demand (``run.py sync``, the button on /admin/), every ``TABOUR_SYNC_EVERY_S``
seconds, and within ``TABOUR_SYNC_RETRY_S`` seconds of the link coming back.
"""
from __future__ import annotations

import gzip
import json
import logging
import os
import threading
from datetime import datetime, timezone
from pathlib import Path

import requests

from .engine import syncrules
from .engine.messages import render
from .engine.model import Actor
from .readmodel import sync as sync_read

log = logging.getLogger("tabour.site")

SITE_FILE = "site.json"
BRANCH_FILE = "site-branch.json"
TOKEN_FILE = "site.token"
SYNC_ACTOR = Actor("system", None, "centre")


class SyncFailed(Exception):
    """The sync stopped (centre unreachable, or it refused): the message says why."""

    def __init__(self, message: str, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.status = status


def site_config(var_dir: Path) -> dict | None:
    path = Path(var_dir) / SITE_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def seed_branches(var_dir: Path) -> list[dict]:
    return json.loads((Path(var_dir) / BRANCH_FILE).read_text(encoding="utf-8"))


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)


def fetch_down(centre: str, token: str, after: int = 0, timeout: float = 15.0) -> dict:
    r = requests.get(f"{centre.rstrip('/')}/api/v1/sync/down", params={"after": after},
                     headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
    _raise_for(r)
    return r.json()


def join(var_dir: Path, centre: str, token: str) -> dict:
    """First contact (``run.py site-join``): the branch configuration from the centre,
    written where the app factory seeds from; the credential kept owner-only."""
    down = fetch_down(centre, token)
    write_join(var_dir, centre, token, down)
    return down


def write_join(var_dir: Path, centre: str, token: str, down: dict) -> None:
    var_dir = Path(var_dir)
    _write_private(var_dir / TOKEN_FILE, token)
    _write_private(var_dir / BRANCH_FILE, json.dumps([sync_read.seed_entry(down["config"])],
                                                      ensure_ascii=False))
    _write_private(var_dir / SITE_FILE, json.dumps(
        {"centre": centre.rstrip("/"), "branch": down["branch"], "tag": down["tag"]}))


def _raise_for(r) -> None:
    if r.status_code < 400:
        return
    try:
        err = r.json()["error"]
        raise SyncFailed(err.get("message") or err["code"], err.get("code"), r.status_code)
    except (ValueError, KeyError, TypeError):
        raise SyncFailed(f"the centre answered {r.status_code}", None, r.status_code) from None


class SiteLink:
    def __init__(self, tabour, config: dict, token: str, timeout: float = 30.0,
                 batch_events: int = syncrules.BATCH_EVENTS):
        self.t = tabour
        self.centre = config["centre"].rstrip("/")
        self.code = config["branch"]
        self.tag = config["tag"]
        self.token = token
        self.timeout = timeout
        self.batch_events = batch_events
        self._lock = threading.Lock()
        self.received_bytes = 0  # answers of the centre's GETs (the bench reads it)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    @classmethod
    def from_var(cls, tabour, var_dir: Path) -> "SiteLink | None":
        config = site_config(var_dir)
        if config is None:
            return None
        token = (Path(var_dir) / TOKEN_FILE).read_text(encoding="utf-8").strip()
        size = int(os.environ.get("TABOUR_SYNC_BATCH_EVENTS", syncrules.BATCH_EVENTS))
        return cls(tabour, config, token, batch_events=size)

    @property
    def branch_id(self) -> int:
        from .db import repo
        with self.t.db.read() as conn:
            return repo.branch_by_code(conn, self.code).id

    def _get(self, path: str, **params):
        try:
            r = self.session.get(self.centre + path, params=params, timeout=self.timeout)
        except requests.RequestException as exc:
            raise SyncFailed(f"the centre is unreachable ({exc.__class__.__name__})",
                             "centre_unreachable") from None
        _raise_for(r)
        self.received_bytes += len(r.content)
        return r.json()

    def _post(self, path: str, body: bytes):
        try:
            r = self.session.post(self.centre + path, data=body, timeout=self.timeout,
                                  headers={"Content-Type": "application/json",
                                           "Content-Encoding": "gzip"})
        except requests.RequestException as exc:
            raise SyncFailed(f"the centre is unreachable ({exc.__class__.__name__})",
                             "centre_unreachable") from None
        return r

    def status(self) -> dict | None:
        return sync_read.site_status(self.t.db, self.branch_id)

    def sync(self) -> dict:
        """One sync, up then down. Raises SyncFailed (noted for /admin/) when it stops."""
        if not self._lock.acquire(blocking=False):
            raise SyncFailed("a sync is already running", "sync_running")
        branch_id = self.branch_id
        cmd = self.t.commands
        try:
            cmd.note_sync(branch_id, last_attempt_at=self.t.clock())
            result = self._sync(branch_id)
        except SyncFailed as exc:
            log.warning("sync with %s stopped: %s", self.centre, exc)
            cmd.note_sync(branch_id, last_error=str(exc))
            raise
        finally:
            self._lock.release()
        cmd.note_sync(branch_id, last_sync_at=self.t.clock(), last_error=None,
                      last_result=result)
        return result

    def _sync(self, branch_id: int) -> dict:
        cmd = self.t.commands
        state = self._get("/api/v1/sync/state")
        acked = int(state["acked_seq"])
        cmd.note_sync(branch_id, acked_seq=acked)
        link = sync_read.link(self.t.db, branch_id)
        if link is not None and link.down_seq > int(state.get("cursor", link.down_seq)):
            # the centre went back in time (restored from a backup): its decisions again
            cmd.note_sync(branch_id, down_seq=0)
        sent = {"batches": 0, "events": 0, "bytes": 0, "json_bytes": 0, "duplicates": 0}
        warnings: list[dict] = []
        resent_from = None
        while True:
            ranges = sync_read.batch_ranges(self.t.db, branch_id, acked, self.batch_events)
            if not ranges:
                break
            first, last = ranges[0]
            payload = sync_read.build_batch(self.t.db, branch_id, first, last)
            body = json.dumps({"site_now": self.t.clock().isoformat(),
                               "checksum": syncrules.checksum(payload),
                               "payload": payload}, ensure_ascii=False).encode("utf-8")
            wire = gzip.compress(body, 6)  # links in the field are slow: ~8x less
            r = self._post("/api/v1/sync/batches", wire)
            if r.status_code == 409 and _code(r) == "sync_gap" and resent_from is None:
                # the centre has less than we thought (restored from a backup): from there
                resent_from = acked = int(r.json()["error"]["params"]["acked"])
                continue
            _raise_for(r)
            answer = r.json()
            acked = int(answer["acked_seq"])
            cmd.note_sync(branch_id, acked_seq=acked)
            sent["batches"] += 1
            sent["events"] += last - first + 1
            sent["bytes"] += len(wire)
            sent["json_bytes"] += len(body)
            sent["duplicates"] += 1 if answer.get("duplicate") else 0
            warnings += [w for w in answer.get("warnings", []) if w not in warnings]
        link = sync_read.link(self.t.db, branch_id)
        down = self._get("/api/v1/sync/down", after=link.down_seq if link else 0)
        got = cmd.apply_down(branch_id, down, SYNC_ACTOR)
        return {"acked_seq": acked, "sent": sent, "received": got, "warnings": warnings,
                "resent_from": resent_from,
                "at": datetime.now(timezone.utc).isoformat()}

    def reachable(self) -> bool:
        try:
            return self.session.get(self.centre + "/api/v1/health", timeout=5).ok
        except requests.RequestException:
            return False

    def run_forever(self, sleep, every_s: float | None = None,
                    retry_s: float | None = None) -> None:
        """On a schedule, and as soon as the link returns after a failure."""
        every_s = float(os.environ.get("TABOUR_SYNC_EVERY_S", 600)) if every_s is None \
            else every_s
        retry_s = float(os.environ.get("TABOUR_SYNC_RETRY_S", 15)) if retry_s is None \
            else retry_s
        if every_s <= 0:
            return
        waited, failing = every_s, False  # sync once at start
        while True:
            if waited >= every_s or (failing and self.reachable()):
                try:
                    self.sync()
                    failing = False
                except SyncFailed:
                    failing = True
                except Exception:  # the database is away: next round
                    log.exception("sync failed")
                    failing = True
                waited = 0.0
            sleep(retry_s)
            waited += retry_s


def _code(r) -> str | None:
    try:
        return r.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def clock_warning(skew_s: int) -> dict | None:
    if not syncrules.clock_off(skew_s):
        return None
    minutes = round(skew_s / 60)
    return {"code": "site_clock_off", "params": {"minutes": minutes},
            "message": render("site_clock_off", {"minutes": minutes})}
