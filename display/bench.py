"""Timing of announcement audio: first (uncached) generation and cached lookups.

    python -m display.bench [cache_dir]
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from display.announce import announcement_audio

DEFAULT_LANGUAGES = ("ar", "fr")


def measure(
    cache_dir: str | Path = "var/audio", runs: int = 5, languages=DEFAULT_LANGUAGES
) -> dict:
    """Median wall time in ms of ``runs`` announcements of three kinds: new calls whose
    numbers and counters were never said (espeak-ng speaks those pieces), new calls made
    of pieces said before (assembled, no espeak-ng), and the same calls again (the file).

    The max of the first calls shows the one-off cost of the first call in a process
    (probing espeak-ng's voices, making the chime). Works in a fresh subdirectory of
    ``cache_dir`` that is removed afterwards.
    """
    from display.announce import pieces

    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-", dir=cache_dir))
    pieces.forget()  # a piece this process said before (another bench) is not "new"
    try:
        first, assembled, cached = [], [], []
        calls = [(f"B-{100 + i:03d}", 1 + i) for i in range(runs)]
        for code, counter in calls:
            first.append(_timed(code, counter, languages, work, expect_cached=False))
        # the same numbers at other counters: new calls, every piece known
        for i, (code, _) in enumerate(calls):
            counter = calls[(i + 1) % runs][1]
            assembled.append(_timed(code, counter, languages, work, expect_cached=False))
        for code, counter in calls:
            cached.append(_timed(code, counter, languages, work, expect_cached=True))
        # generation alone; "announcement_first_audio_ms" (measure_first_announcement)
        # is the whole path, from the call to the display holding the audio
        return {
            "announcement_generate_ms_median": round(statistics.median(first), 2),
            "announcement_generate_ms_max": round(max(first), 2),
            "announcement_assembled_ms_median": round(statistics.median(assembled), 3),
            "announcement_cached_ms": round(statistics.median(cached), 3),
            "announcement_samples": runs,
            "announcement_languages": list(languages),
        }
    finally:
        pieces.forget()
        shutil.rmtree(work, ignore_errors=True)


def _timed(code, counter, languages, cache_dir, expect_cached: bool) -> float:
    started = time.perf_counter()
    audio = announcement_audio(code, counter, languages, cache_dir)
    elapsed = (time.perf_counter() - started) * 1000.0
    if audio.cached != expect_cached or audio.fell_back:
        raise RuntimeError(f"bench call did not behave as expected: {audio}")
    return elapsed


def measure_click_to_display(browser, server_url: str, admin_token: str, runs: int = 20) -> dict:
    """Click "call next" in the console -> the call on the wall display, in real Chromium:
    {"click_to_display_ms_p50", "click_to_display_ms_p99"} (display/web/measure.py)."""
    from display.web.measure import measure_click_to_display as run
    return run(browser, server_url, admin_token, runs=runs)


def measure_first_announcement(browser, server_url: str, admin_token: str) -> dict:
    """Call next (REST) -> the display receives the announcement of an uncached call:
    {"announcement_first_audio_ms"} (display/web/measure.py)."""
    from display.web.measure import measure_first_announcement as run
    return run(browser, server_url, admin_token)


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1] if len(sys.argv) > 1 else "var/audio"), indent=2))
