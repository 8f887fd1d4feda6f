"""Tracking numbers: short, unambiguous, hard to guess, with a check character.

Alphabet: 2-9 and A-Z without I and O (32 symbols; no 0/O, no 1/I). A number
is 7 random symbols from ``secrets`` (32**7 ~ 3.4e10, ~35 bits) and one check
symbol (Luhn mod 32: every single mistyped symbol and most swaps of two
neighbours are caught before the database is asked). Shown as ``ABCD-EFGH``.
Uniqueness is the database's job (a unique constraint; the caller draws again
on a collision).
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


def new(randbelow=secrets.randbelow) -> str:
    body = "".join(ALPHABET[randbelow(N)] for _ in range(BODY))
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
