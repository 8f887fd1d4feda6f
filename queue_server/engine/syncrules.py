"""The rules of a site's sync with its centre (README "Sites that work offline"). Pure:
standard library only, time passed in.

- A batch is a run of the site's own events, ``first_seq`` .. ``last_seq`` (the site's
  branch sequence), with the rows they name; its checksum is the SHA-256 of its
  canonical JSON (sorted keys, no spaces, UTF-8): an altered or truncated batch does
  not match.
- The centre keeps the last site sequence it applied (``acked``). A batch is applied
  when it starts right after it, is a duplicate (changes nothing) when it ends at or
  before it, and is refused when it leaves a gap. A batch that overlaps the ack (the
  site cut its batches differently after an interruption) applies its new part only.
- The site's clock is trusted for the times it recorded, never for ordering (the
  sequence orders); a clock off by more than ``CLOCK_WARN_S`` is a warning at sync.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

CLOCK_WARN_S = 300
BATCH_EVENTS = 500  # events per batch the site sends


def canonical(payload) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def checksum(payload) -> str:
    return hashlib.sha256(canonical(payload)).hexdigest()


APPLY, DUPLICATE, GAP = "apply", "duplicate", "gap"


def decide(acked: int, first_seq: int, last_seq: int) -> str:
    """What the centre does with a batch ``first_seq..last_seq`` when it has ``acked``."""
    if first_seq < 1 or last_seq < first_seq:
        raise ValueError(f"a batch covers first_seq..last_seq, 1 <= first <= last: "
                         f"{first_seq}..{last_seq}")
    if last_seq <= acked:
        return DUPLICATE
    if first_seq > acked + 1:
        return GAP
    return APPLY


def clock_skew_s(site_now: datetime, centre_now: datetime) -> int:
    """How far ahead (+) or behind (-) the site's clock is, in whole seconds."""
    return round((site_now - centre_now).total_seconds())


def clock_off(skew_s: int) -> bool:
    return abs(skew_s) > CLOCK_WARN_S


def batches(seqs: list[int], size: int = BATCH_EVENTS) -> list[tuple[int, int]]:
    """Cut consecutive sequence numbers into (first, last) runs of at most ``size``."""
    out = []
    for i in range(0, len(seqs), size):
        run = seqs[i:i + size]
        out.append((run[0], run[-1]))
    return out
