"""Staff accounts, bearer tokens, device tokens and what each role may do.

Passwords are hashed with Werkzeug's scrypt. Tokens are random (256 bits); only
their SHA-256 is stored, so a copy of the database gives no usable token.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from .db import schema as s
from .db.database import Database
from .engine.errors import DomainError
from .engine.messages import N_, register
from .engine.model import Actor

STAFF_ROLES = ("agent", "manager", "admin", "supervisor")
DEVICE_ROLES = ("kiosk", "display", "printer", "site")
SESSION_HOURS = 12

_AGENT = {"services:read", "tickets:issue", "tickets:read", "counters:read",
          "counters:operate", "queue:watch", "account:self"}  # sign out, own password
_KIOSK = {"services:read", "tickets:issue", "tickets:read", "kiosk:watch"}
_DISPLAY = {"services:read", "display:watch", "tickets:read"}
_PRINTER = {"printer:jobs"}
# a site that works offline (README "Sites that work offline"): it sends its branch's
# events up and pulls its branch's configuration and the centre's decisions down, for
# its own branch only (api/sync_routes.py checks the branch)
_SITE = {"sync:push", "sync:pull"}
# dossiers: a kiosk and an agent take a deposit; staff move it through review
_AGENT |= {"dossiers:deposit", "dossiers:read", "dossiers:manage"}
_KIOSK |= {"dossiers:deposit"}
_MANAGER = _AGENT | {"dossiers:counts", "counters:manage", "dashboard:watch", "reports:read", "tickets:cancel"}
# the managers' pages (issue 10): alerts, and /admin/ within their branch: services,
# counters, hours, display zones; agents' accounts only (commands/admin.py checks whose)
_MANAGER |= {"alerts:manage", "admin:read", "config:write", "users:manage"}
# a supervisor (issue 13) watches the branches of a scope (regions, a list of branches,
# or the whole network): the supervisors' page, each branch's dashboard and reports,
# read-only (no counter action, no alert acknowledged, no administration). Which
# branches: ``Auth.may_see`` below, the one place that decides.
_SUPERVISOR = {"supervisor:watch", "dashboard:watch", "reports:read"}
PERMISSIONS: dict[str, frozenset] = {
    "kiosk": frozenset(_KIOSK),
    "display": frozenset(_DISPLAY),
    "printer": frozenset(_PRINTER),
    "site": frozenset(_SITE),
    "agent": frozenset(_AGENT),
    "manager": frozenset(_MANAGER),
    "supervisor": frozenset(_SUPERVISOR),
    # an admin may do everything an agent, a manager or any device may
    "admin": frozenset(_MANAGER | _KIOSK | _DISPLAY | _PRINTER
                       | {"devices:manage"}),
}


@dataclass(frozen=True)
class Scope:
    """The branches a supervisor watches: the whole network, regions, or branch codes."""
    national: bool = False
    regions: frozenset = frozenset()
    branches: frozenset = frozenset()  # branch codes

    @classmethod
    def from_data(cls, data) -> "Scope | None":
        if not isinstance(data, dict):
            return None
        return cls(bool(data.get("national")), frozenset(data.get("regions") or ()),
                   frozenset(data.get("branches") or ()))

    def data(self) -> dict:
        if self.national:
            return {"national": True}
        if self.regions:
            return {"regions": sorted(self.regions)}
        return {"branches": sorted(self.branches)}

    def covers(self, code: str, region: str | None) -> bool:
        return self.national or code in self.branches or \
            (region is not None and region in self.regions)


@dataclass(frozen=True)
class Principal:
    branch_id: int
    role: str
    kind: str  # "session" | "device"
    name: str
    user_id: int | None
    token_id: int
    scope: Scope | None = None  # a supervisor's; the other roles see their own branch

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, ())

    @property
    def actor(self) -> Actor:
        if self.kind == "device":
            return Actor("device", self.token_id, self.name)
        return Actor("user", self.user_id, self.name)


register({
    "wrong_login": N_("Wrong username or password."),
    "account_disabled": N_("This account is disabled: ask a manager or an administrator "
                           "to enable it."),
    "sign_in_first": N_("Sign in first: this needs a bearer token (POST /api/v1/auth/token) "
                        "or a device token."),
    "token_invalid": N_("This token is not valid (unknown or revoked): sign in again or ask "
                        "an administrator for a new device token."),
    "session_expired": N_("Your session has expired: sign in again."),
    "role_forbidden": N_("Your role (%(role)s) may not do this: it needs '%(permission)s'. Ask "
                         "a manager or an administrator."),
    "not_signed_in": N_("This connection is not signed in: reconnect with a token."),
    "view_forbidden": N_("A %(role)s token cannot open the %(view)s view."),
    "out_of_scope": N_("Branch %(branch)s is not in your supervision scope: ask an "
                       "administrator to add it or its region."),
})


class AuthError(DomainError):
    """Not signed in (401) or not allowed (403); a code and parameters like every error."""

    code = "unauthorized"

    def __init__(self, code: str, status: int = 401, /, **params):
        self.status = status
        super().__init__(code, **params)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Auth:
    DEVICE_ROLES = DEVICE_ROLES
    STAFF_ROLES = STAFF_ROLES

    def __init__(self, db: Database, clock):
        self.db = db
        self.clock = clock
        # scrypt costs ~100 ms of CPU: the app hands it to a thread pool under gevent, so
        # the event loop keeps serving other requests meanwhile (hashlib releases the GIL)
        self.offload = lambda fn, *args: fn(*args)
        # unknown clients' sign-ins (no device cookie) hash in a pool of their own, one
        # at a time, with a bounded queue: guessers never take more than that share of
        # the CPU, nor make a known browser's sign-in wait behind them
        self.offload_unknown = self.offload
        self._unknown_waiting = 0
        # a refused sign-in answers after a pause (the app: one second, a sleeping
        # greenlet): a client hammering a locked door is slowed to a try a second
        self.tarpit = lambda: None
        self.guard = None  # login_guard.LoginGuard: wrong passwords limited, before hashing
        self._cache: dict[str, tuple] = {}  # token digest -> (principal, expires, checked)
        # token digest -> the read in progress: requests with a token being read wait for
        # that read instead of each reading it (under gevent, greenlet-friendly)
        self._reading: dict[str, threading.Event] = {}
        self._reading_lock = threading.Lock()
        self._forgets = 0  # how many times tokens were forgotten (revocations)
        self._seen: dict[int, float] = {}  # device token id -> when its last seen was written

    # --- users -------------------------------------------------------------

    def create_user(self, branch_id: int, username: str, password: str, role: str,
                    display_name: str = "", scope: Scope | None = None) -> int:
        hashed = self.hash_password(password)
        with self.db.write() as conn:
            return self.insert_user(conn, branch_id, username, hashed, role, display_name,
                                    scope)

    def hash_password(self, password: str) -> str:
        """Slow on purpose (scrypt): done before any write transaction opens, off the
        event loop."""
        if len(password) < 8:
            raise ValueError("a password needs at least 8 characters")
        return self.offload(generate_password_hash, password)

    def check_password(self, password_hash: str, password: str) -> bool:
        """scrypt, off the event loop like every other hash."""
        return self.offload(check_password_hash, password_hash, password)

    def insert_user(self, conn, branch_id: int, username: str, password_hash: str, role: str,
                    display_name: str = "", scope: Scope | None = None) -> int:
        if role not in STAFF_ROLES:
            raise ValueError(f"role must be one of {', '.join(STAFF_ROLES)}")
        if (role == "supervisor") != (scope is not None):
            raise ValueError("a supervisor needs a scope (regions, branches or national), "
                             "and only a supervisor has one")
        if scope is not None:
            self.check_scope(conn, scope)
        return conn.execute(insert(s.users).values(
            branch_id=branch_id, username=username,
            password_hash=password_hash, role=role,
            display_name=display_name or username, created_at=self.clock(),
            scope=scope.data() if scope is not None else None,
        ).returning(s.users.c.id)).scalar_one()

    @staticmethod
    def check_scope(conn, scope: Scope) -> None:
        """Every region and branch a scope names exists (ValueError says which not)."""
        if scope.national:
            return
        if not scope.regions and not scope.branches:
            raise ValueError("an empty scope: name regions, branches, or national")
        known = {r[0] for r in conn.execute(select(s.regions.c.code))}
        missing = sorted(scope.regions - known)
        if missing:
            raise ValueError(f"unknown region(s) {', '.join(missing)}: known are "
                             f"{', '.join(sorted(known)) or 'none (see [regions] in the config)'}")
        codes = {r[0] for r in conn.execute(select(s.branches.c.code))}
        missing = sorted(scope.branches - codes)
        if missing:
            raise ValueError(f"unknown branch(es) {', '.join(missing)}")

    # --- which branches a principal may see (supervisors: their scope) -------------------

    def may_see(self, principal: Principal, branch) -> bool:
        """``branch``: a row or model with ``id``, ``code`` (and ``region`` for a row).
        A supervisor: its scope; every other role: its own branch only."""
        if principal.role != "supervisor":
            return branch.id == principal.branch_id
        if principal.scope is None:
            return False
        region = getattr(branch, "region", None)
        if principal.scope.regions and not hasattr(branch, "region"):
            with self.db.read() as conn:
                region = conn.execute(select(s.branches.c.region)
                                      .where(s.branches.c.id == branch.id)).scalar()
        return principal.scope.covers(branch.code, region)

    def require_branch(self, principal: Principal, branch, other_code: str) -> None:
        """Refuse (403) a branch outside what ``principal`` may see: ``out_of_scope`` for a
        supervisor, ``other_code`` (the route's own refusal) for the other roles."""
        if self.may_see(principal, branch):
            return
        if principal.role == "supervisor":
            raise AuthError("out_of_scope", 403, branch=branch.code)
        raise AuthError(other_code, 403, branch=branch.code)

    def own_branch(self, principal: Principal) -> int:
        """The branch a request names by default (no ``?branch=``): the principal's own;
        a supervisor's account branch only when its scope holds it."""
        if principal.role == "supervisor":
            B = s.branches.c
            with self.db.read() as conn:
                row = conn.execute(select(B.id, B.code, B.region)
                                   .where(B.id == principal.branch_id)).first()
            self.require_branch(principal, row, "out_of_scope")
        return principal.branch_id

    def branches_in_scope(self, principal: Principal) -> list:
        """The rows (id, code, names, region) of the branches ``principal`` may see,
        in the branches' order."""
        B = s.branches.c
        q = select(B.id, B.code, B.names, B.region).order_by(B.id)
        with self.db.read() as conn:
            rows = conn.execute(q).all()
        return [r for r in rows if self.may_see(principal, r)]

    def regions(self) -> dict[str, dict]:
        """code -> names, in the configuration's order."""
        with self.db.read() as conn:
            return {r.code: r.names for r in conn.execute(
                select(s.regions).order_by(s.regions.c.position, s.regions.c.code))}

    def set_password(self, username: str, password: str) -> None:
        hashed = self.offload(generate_password_hash, password)
        with self.db.write() as conn:
            conn.execute(update(s.users).where(s.users.c.username == username)
                         .values(password_hash=hashed))

    SEEN_EVERY_S = 60.0

    def seen(self, token_id: int) -> None:
        """A device connected or left: its "last seen" on the admin page (not an event).
        At most one write a minute per device and process: a thousand screens
        reconnecting at once (a resync) never queue up behind the write path."""
        now = time.monotonic()
        if now - self._seen.get(token_id, -self.SEEN_EVERY_S) < self.SEEN_EVERY_S:
            return
        self._seen[token_id] = now
        with self.db.write() as conn:
            conn.execute(update(s.tokens).where(s.tokens.c.id == token_id)
                         .values(last_seen_at=self.clock()))

    def has_users(self) -> bool:
        with self.db.read() as conn:
            return conn.execute(select(s.users.c.id).limit(1)).first() is not None

    def login(self, username: str, password: str, address: str = "?",
              device: str | None = None) -> tuple[str, dict]:
        """A session token for a right password. ``address`` is the client's, ``device``
        the id of its valid device cookie for this user (``LoginGuard.device_of``): an
        attempt over the guard's limits is refused (429) before anything is hashed."""
        try:
            counted = self.guard.admit(address, username, device) if self.guard else None
        except DomainError:
            self.tarpit()
            raise
        with self.db.read() as conn:
            user = conn.execute(select(s.users).where(s.users.c.username == username)).first()
        # check a hash even for an unknown user, so timing does not tell who exists
        stored = user.password_hash if user else _DUMMY_HASH
        if counted is not None:  # a browser this account knows
            ok = self.offload(check_password_hash, stored, password)
        else:
            ok = self._hash_unknown(stored, password)
        if user is None or not ok:
            if self.guard:
                self.guard.failed(address, username, counted)
            raise AuthError("wrong_login", 401)
        if not user.active:  # said only to whoever knows the password
            raise AuthError("account_disabled", 403)
        now = self.clock()
        token = self._issue(user.branch_id, "session", user.role, user.display_name,
                            user.id, now + timedelta(hours=SESSION_HOURS))
        return token, {"username": user.username, "role": user.role,
                       "display_name": user.display_name, "branch_id": user.branch_id,
                       "scope": user.scope}

    UNKNOWN_WAITING_MAX = 4

    def _hash_unknown(self, stored: str, password: str) -> bool:
        if self._unknown_waiting >= self.UNKNOWN_WAITING_MAX:
            from .login_guard import SignInBusy
            self.tarpit()
            raise SignInBusy()  # nothing hashed, nothing counted: try again in a moment
        self._unknown_waiting += 1
        try:
            return self.offload_unknown(check_password_hash, stored, password)
        finally:
            self._unknown_waiting -= 1

    # --- tokens ------------------------------------------------------------

    def insert_token(self, conn, branch_id: int, kind: str, role: str, name: str,
                     user_id: int | None, expires_at) -> tuple[str, int]:
        """A new random token in the caller's transaction: (the token, its row id)."""
        token = secrets.token_urlsafe(32)
        token_id = conn.execute(insert(s.tokens).values(
            branch_id=branch_id, token_hash=_digest(token), kind=kind, role=role,
            user_id=user_id, name=name, created_at=self.clock(), expires_at=expires_at)
            .returning(s.tokens.c.id)).scalar_one()
        return token, token_id

    def _issue(self, branch_id: int, kind: str, role: str, name: str, user_id: int | None,
               expires_at) -> str:
        with self.db.write() as conn:
            return self.insert_token(conn, branch_id, kind, role, name, user_id, expires_at)[0]

    def create_device(self, branch_id: int, role: str, name: str) -> str:
        """A device token outside any command (setup scripts, tests). The API goes
        through ``commands.create_device`` (an audited event)."""
        if role not in DEVICE_ROLES:
            raise ValueError(f"a device is one of {', '.join(DEVICE_ROLES)}")
        return self._issue(branch_id, "device", role, name, None, None)

    # --- who a token is ---------------------------------------------------------------
    #
    # A token is looked up once, then remembered: revoking a device, disabling a user,
    # a logout are events of the branch, and every server process forgets the tokens
    # they name when the event reaches it (``on_batch``). CACHE_S bounds what a change
    # made behind the application's back (by hand in the database) can outlive.

    CACHE_S = 60.0
    CACHE_MAX = 20_000
    FORGET_ON = frozenset({"device_revoked", "user_disabled", "user_password_changed",
                           "session_revoked", "user_edited"})

    def _cached(self, digest: str) -> Principal | None:
        hit = self._cache.get(digest)
        if hit is None:
            return None
        principal, expires_at, checked = hit
        now = self.clock()
        if (now - checked).total_seconds() > self.CACHE_S:
            self._cache.pop(digest, None)
            return None
        if expires_at is not None and expires_at <= now:
            self._cache.pop(digest, None)
            raise AuthError("session_expired", 401)
        return principal

    def forget(self, token_id: int | None = None, user_id: int | None = None) -> None:
        self._forgets += 1
        for key, (principal, _e, _c) in list(self._cache.items()):
            if (token_id is not None and principal.token_id == token_id) or \
                    (user_id is not None and principal.user_id == user_id):
                self._cache.pop(key, None)

    def on_batch(self, _branch_id: int, batch, _local: bool) -> None:
        """A read-model listener: forget the tokens a revocation names."""
        for _seq, e in batch.events:
            if e.type in self.FORGET_ON:
                self.forget(e.data.get("token_id"), e.data.get("user_id"))

    def revoked_device(self, token: str | None):
        """The token's row when it is a revoked device (to say "revoked" rather than
        "unknown" to a site whose credential was withdrawn), else None."""
        if not token:
            return None
        with self.db.read() as conn:
            row = conn.execute(select(s.tokens).where(
                s.tokens.c.token_hash == _digest(token))).first()
        return row if row is not None and row.revoked_at is not None else None

    def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise AuthError("sign_in_first", 401)
        digest = _digest(token)
        principal = self._cached(digest)
        if principal is not None:
            return principal
        # One read per token at a time: when a process starts, or a wave of sockets
        # reconnects, the requests of a branch's agents, kiosk and screens carrying the
        # same token arrive together, and each one used to read it (seen in
        # bench-national: most requests of the first minute read their token, queueing
        # for the pool's connections behind each other).
        with self._reading_lock:
            reading = self._reading.get(digest)
            if reading is None:
                self._reading[digest] = threading.Event()
        if reading is not None:
            reading.wait(self.READ_WAIT_S)
            principal = self._cached(digest)
            if principal is not None:
                return principal
            return self._read(token, digest)  # that read refused it or failed: our own
        try:
            return self._read(token, digest)
        finally:
            with self._reading_lock:
                self._reading.pop(digest).set()

    READ_WAIT_S = 5.0

    def _read(self, token: str, digest: str) -> Principal:
        # one statement (one round trip), not two: every process reads each token once
        # per CACHE_S, and a wave of reconnecting sockets reads many at once (seen in
        # bench-national: ~12 % of a loaded server's samples)
        T, U = s.tokens.c, s.users.c
        forgets = self._forgets  # a revocation during the read: do not keep what it read
        with self.db.read() as conn:
            row = conn.execute(
                select(s.tokens, U.id.label("user_row"), U.active.label("user_active"),
                       U.scope.label("user_scope"))
                .select_from(s.tokens.outerjoin(s.users, U.id == T.user_id))
                .where(T.token_hash == digest)).first()
        scope = None
        if row is not None and row.user_id is not None:
            if row.user_row is None or not row.user_active:
                row = None
            else:
                scope = Scope.from_data(row.user_scope)
        if row is None or row.revoked_at is not None:
            raise AuthError("token_invalid", 401)
        if row.expires_at is not None and row.expires_at <= self.clock():
            raise AuthError("session_expired", 401)
        principal = Principal(row.branch_id, row.role, row.kind, row.name, row.user_id, row.id,
                              scope if row.role == "supervisor" else None)
        if len(self._cache) >= self.CACHE_MAX:
            self._cache.clear()
        if forgets == self._forgets:
            self._cache[digest] = (principal, row.expires_at, self.clock())
        return principal


_DUMMY_HASH = generate_password_hash("not-a-real-password")
