"""Wrong passwords, limited so that a guesser is slowed down and a legitimate user is not.

Three counters of failed sign-ins, in the shared storage of ``shared.py`` (Redis when
the deployment has one, else the database: every server process sees the same counts,
a restart forgets none):

- per client address (``X-Forwarded-For`` behind ``TABOUR_TRUSTED_PROXIES``): one
  guesser, many usernames;
- per account, for clients the account does not know: many addresses, one username;
- per device cookie: a browser that once signed in as this user holds a signed cookie
  (OWASP "slow down online guessing attacks with device cookies"). It is exempt from
  the two lockouts above, so an attacker who locks an address or an account does not
  lock out the staff who work there; it has its own counter, and when that one is
  over its limit the browser is treated like any unknown client.

An attempt over a limit is refused before the password is hashed (429, Retry-After).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Callable

from itsdangerous import BadSignature, URLSafeTimedSerializer

from .engine.errors import NotAllowed
from .engine.messages import N_, register
from .shared import Limiter, TooMany

register({
    "sign_in_busy": N_("Many sign-ins are being checked right now: try again in a few "
                       "seconds."),
    "too_many_logins": N_("Too many wrong passwords: signing in is paused here for "
                          "%(minutes)s minute(s). Wait, then try again; a browser that "
                          "signed in successfully before is not held back."),
})

COOKIE = "tabour_device"
COOKIE_PATH = "/api/v1/auth/"
COOKIE_DAYS = 180
USERS_PER_DEVICE = 8  # a counter PC shared by a few agents


class TooManyLogins(NotAllowed):
    kind = "too_many_attempts"
    code = "too_many_logins"

    def __init__(self, retry_after_s: int):
        self.retry_after_s = retry_after_s
        super().__init__("too_many_logins", minutes=max(1, -(-retry_after_s // 60)))


class SignInBusy(NotAllowed):
    """Too many unknown clients' sign-ins wait for a hash: refused without one."""
    kind = "too_many_attempts"
    code = "sign_in_busy"
    retry_after_s = 2

    def __init__(self):
        super().__init__("sign_in_busy")


@dataclass(frozen=True)
class LoginLimits:
    """(failures, window in seconds) of each counter."""
    address: tuple[int, float] = (20, 600.0)
    account: tuple[int, float] = (10, 900.0)
    device: tuple[int, float] = (10, 900.0)


def _user(username: str) -> str:
    return username.strip().casefold()


class LoginGuard:
    def __init__(self, counters, clock: Callable, key: bytes,
                 limits: LoginLimits = LoginLimits()):
        self.limits, self.counters = limits, counters
        self.address = Limiter(counters, clock, "login-address", *limits.address)
        self.account = Limiter(counters, clock, "login-account", *limits.account)
        self.device = Limiter(counters, clock, "login-device", *limits.device)
        self._signer = URLSafeTimedSerializer(key, salt="tabour-device-cookie")

    # --- the device cookie ---------------------------------------------------------------

    def _read(self, cookie: str | None) -> dict | None:
        if not cookie or len(cookie) > 2000:
            return None
        try:
            data = self._signer.loads(cookie, max_age=COOKIE_DAYS * 86400)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("d"), str) \
                or not isinstance(data.get("u"), list):
            return None
        return data

    def device_of(self, cookie: str | None, username: str) -> str | None:
        """The device id of a valid cookie that this user signed in with, else None."""
        data = self._read(cookie)
        if data is None or _user(username) not in data["u"]:
            return None
        return data["d"]

    def cookie_after_success(self, cookie: str | None, username: str) -> str:
        """The cookie to hand back after a successful sign-in: this user added."""
        data = self._read(cookie) or {"d": secrets.token_urlsafe(16), "u": []}
        users = [u for u in data["u"] if u != _user(username)] + [_user(username)]
        return self._signer.dumps({"d": data["d"], "u": users[-USERS_PER_DEVICE:]})

    # --- the counters ---------------------------------------------------------------------

    def admit(self, address: str, username: str, device: str | None) -> str | None:
        """Before hashing: raise ``TooManyLogins`` or say who the attempt counts against
        (the device id when the attempt comes from a trusted, unlocked device)."""
        if device is not None:
            try:
                self.device.check(device)
                return device
            except TooMany:
                pass  # a locked device cookie: an unknown client like any other
        try:
            self.address.check(address)
            self.account.check(_user(username))
        except TooMany as exc:
            raise TooManyLogins(exc.retry_after_s) from None
        return None

    def failed(self, address: str, username: str, device: str | None) -> None:
        if device is not None:
            self.device.hit(device)
        else:  # both in one write
            self.counters.hit_many([self.address.hit_of(address),
                                    self.account.hit_of(_user(username))])
