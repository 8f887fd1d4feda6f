"""Insured (registration) numbers and national ID numbers: format and check digit.

Pure functions. The formats below are what we chose to accept; the check-digit
rules are ASSUMPTIONS made configurable (config/dossiers.toml ``[identity]``),
because the funds do not publish them:

- ``cnss_ma`` -- Moroccan CNSS immatriculation: 9 digits. We assume the 9th is
  a Luhn check digit over the first 8 (``check = "luhn"``, the default). A
  branch whose numbers do not follow it sets ``check = "none"`` (format only)
  or ``"mod97"``.
- ``dz_ss`` -- Algerian social-security number (CNAS/CASNOS): 12 digits. We
  assume the last 2 digits are ``97 - (first 10 mod 97)`` (``check = "mod97"``).
- ``cin_ma`` -- Moroccan CIN (national ID card): 1 or 2 letters then 1 to 6
  digits, e.g. ``BE123456``, ``A12345``. No check digit.
- ``nin_dz`` -- Algerian NIN (numéro d'identification national): 18 digits. No
  public check digit; format only.

Spaces, dashes and dots typed on a keypad are ignored; letters are upper-cased.
Nothing here logs a number; ``mask`` is what logs and public screens show.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Callable

from ..engine.errors import DomainError
from . import messages  # noqa: F401  (registers the dossier codes)


class InvalidInput(DomainError):
    """A number the visitor typed does not have the right format or check digit."""

    kind = code = "invalid_input"


def normalise(value: str) -> str:
    return re.sub(r"[\s\-./]", "", str(value or "")).upper()


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def luhn_digit(body: str) -> str:
    """The Luhn check digit to append to ``body``."""
    for d in "0123456789":
        if luhn_ok(body + d):
            return d
    raise AssertionError


def mod97_ok(digits: str) -> bool:
    body, check = digits[:-2], digits[-2:]
    return int(check) == 97 - int(body) % 97


def mod97_digits(body: str) -> str:
    return f"{97 - int(body) % 97:02d}"


CHECKS: dict[str, Callable[[str], bool] | None] = {
    "luhn": luhn_ok, "mod97": mod97_ok, "none": None}


@dataclass(frozen=True)
class Scheme:
    code: str
    pattern: re.Pattern
    shape: dict  # lang -> what the format is, for the message
    check: str = "none"

    def validate(self, value: str, what: dict) -> str:
        """The normalised number, or InvalidInput with a message a visitor can act on."""
        v = normalise(value)
        if not self.pattern.fullmatch(v):
            raise InvalidInput("invalid_format", what=what["what"], field=what["field"],
                               reason="format", expected=self.shape)
        fn = CHECKS[self.check]
        if fn is not None and not fn(v):
            raise InvalidInput("invalid_check_digit", what=what["what"], field=what["field"],
                               reason="check_digit")
        return v


INSURED = {
    "cnss_ma": Scheme("cnss_ma", re.compile(r"\d{9}"),
                      {"en": "9 digits", "fr": "9 chiffres", "ar": "9 أرقام"}, "luhn"),
    "dz_ss": Scheme("dz_ss", re.compile(r"\d{12}"),
                    {"en": "12 digits", "fr": "12 chiffres", "ar": "12 رقما"}, "mod97"),
}
NATIONAL = {
    "cin_ma": Scheme("cin_ma", re.compile(r"[A-Z]{1,2}\d{1,6}"),
                     {"en": "1 or 2 letters then up to 6 digits",
                      "fr": "1 ou 2 lettres puis jusqu'à 6 chiffres",
                      "ar": "حرف أو حرفان ثم حتى 6 أرقام"}),
    "nin_dz": Scheme("nin_dz", re.compile(r"\d{18}"),
                     {"en": "18 digits", "fr": "18 chiffres", "ar": "18 رقما"}),
}
_INSURED_WHAT = {"what": "what_insured_number", "field": "insured_number"}
_NATIONAL_WHAT = {"what": "what_national_id", "field": "national_id"}


def insured_scheme(code: str, check: str | None = None) -> Scheme:
    if code not in INSURED:
        raise ValueError(f"unknown insured-number scheme {code!r}: use one of {', '.join(INSURED)}")
    scheme = INSURED[code]
    if check is not None:
        if check not in CHECKS:
            raise ValueError(f"unknown check rule {check!r}: use one of {', '.join(CHECKS)}")
        scheme = Scheme(scheme.code, scheme.pattern, scheme.shape, check)
    return scheme


def national_scheme(code: str) -> Scheme:
    if code not in NATIONAL:
        raise ValueError(f"unknown national-ID scheme {code!r}: use one of {', '.join(NATIONAL)}")
    return NATIONAL[code]


def validate_insured(value: str, scheme: Scheme) -> str:
    return scheme.validate(value, _INSURED_WHAT)


def validate_national(value: str, scheme: Scheme) -> str:
    return scheme.validate(value, _NATIONAL_WHAT)


def mask(value: str, keep: int = 3) -> str:
    """``123456782`` -> ``******782``: what logs, receipts and public screens show."""
    v = normalise(value)
    if len(v) <= keep:
        return "*" * len(v)
    return "*" * (len(v) - keep) + v[-keep:]


def digest(value: str, key: bytes) -> str:
    """A keyed hash of a national ID (HMAC-SHA256): lets staff check "is this the
    same person" without storing the number. Keyed, because the space of CINs is
    small enough to hash exhaustively."""
    return hmac.new(key, normalise(value).encode(), hashlib.sha256).hexdigest()
