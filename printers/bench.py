"""Receipt figures for ``make bench``: ``python -m printers.bench``."""

from __future__ import annotations

import json
import statistics
import time

from .encode import encode
from .layout import render_ticket
from .samples import ticket_ar_fr


def measure(runs: int = 50) -> dict:
    """Median time to render and encode the Arabic+French 80 mm ticket, and its size in bytes."""
    ticket = ticket_ar_fr()
    payload = encode(render_ticket(ticket, "80mm"), "80mm")  # warm-up: fonts load once per process
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        payload = encode(render_ticket(ticket, "80mm"), "80mm")
        timings.append((time.perf_counter() - start) * 1000)
    return {
        "ticket_render_encode_ms_median": round(statistics.median(timings), 2),
        "ticket_bytes_ar_fr_80mm": len(payload),
    }


if __name__ == "__main__":
    print(json.dumps(measure()))
