"""Tracking numbers: short, unambiguous, hard to guess, with a check character.

Alphabet: 2-9 and A-Z without I and O (32 symbols; no 0/O, no 1/I). A number
is 7 random symbols from ``secrets`` (32**7 ~ 3.4e10, ~35 bits) and one check
symbol (Luhn mod 32: every single mistyped symbol and most swaps of two
neighbours are caught before the database is asked). Shown as ``ABCD-EFGH``.
Uniqueness is the database's job (a unique constraint; the caller draws again
on a collision).

Sites that work offline (a mobile agency, an antenna: README "Sites that work offline")
draw their numbers without asking anyone, so the space is split: a site's numbers start
with its two-symbol tag (first symbol in ``SITE_FIRST``, given by the centre when the
site is registered), and every other number never starts with a symbol of
``SITE_FIRST``. A site's numbers cannot collide with the centre's or another site's.
"""
from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
N = len(ALPHABET)
BODY = 7
LENGTH = BODY + 1
_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}


def check_char(body: str) -> str:
    """Luhn mod N over ``body`` (the check symbol that makes the whole valid)."""
    factor, total = 2, 0
    for ch in reversed(body):
        addend = factor * _INDEX[ch]
        factor = 1 if factor == 2 else 2
        total += addend // N + addend % N
    return ALPHABET[(N - total % N) % N]


SITE_FIRST = "WXYZ"  # first symbol of a site's tag: 4 x 32 = 128 sites
_CENTRE_FIRST = "".join(ch for ch in ALPHABET if ch not in SITE_FIRST)
TAG = 2


def is_site_tag(tag: str) -> bool:
    return (len(tag or "") == TAG and tag[0] in SITE_FIRST
            and all(ch in _INDEX for ch in tag))


def new(randbelow=secrets.randbelow, tag: str | None = None) -> str:
    """A fresh number: a site's (starting with its ``tag``) or the centre's (never
    starting with a site symbol)."""
    if tag is not None:
        if not is_site_tag(tag):
            raise ValueError(f"a site tag is 2 symbols, the first one of {SITE_FIRST}: {tag!r}")
        body = tag + "".join(ALPHABET[randbelow(N)] for _ in range(BODY - TAG))
    else:
        body = _CENTRE_FIRST[randbelow(len(_CENTRE_FIRST))] + "".join(
            ALPHABET[randbelow(N)] for _ in range(BODY - 1))
    return body + check_char(body)


def normalise(value: str) -> str:
    return "".join(ch for ch in str(value or "").upper() if ch not in " -\t")


def is_valid(value: str) -> bool:
    v = normalise(value)
    return (len(v) == LENGTH and all(ch in _INDEX for ch in v)
            and check_char(v[:-1]) == v[-1])


def parse(value: str) -> str | None:
    """The canonical number, or None when it cannot be one (wrong length,
    a symbol outside the alphabet, a wrong check symbol). Accepts a scanned QR
    value (a URL ending in /d/<number>)."""
    v = str(value or "").strip()
    if "/d/" in v:
        v = v.rsplit("/d/", 1)[1].split("?")[0].split("#")[0]
    v = normalise(v)
    return v if is_valid(v) else None


def display(value: str) -> str:
    v = normalise(value)
    return f"{v[:4]}-{v[4:]}" if len(v) == LENGTH else v
