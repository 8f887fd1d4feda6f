"""The figures `make bench` reports, measured once here so they keep working."""
from __future__ import annotations

from display.bench import measure_click_to_display, measure_first_announcement


def test_bench_measures_click_to_display_and_first_announcement(live_server, browser):
    token = live_server.token()
    figures = measure_click_to_display(browser, live_server.url, token, runs=8)
    click = figures["click_to_display_ms"]
    assert click["n"] == 8 and "p99" not in click  # under 100 samples: the maximum, named so
    # a sanity bound: that it is measured, not how fast (the bench's figure is the
    # measure; the max of 8 clicks once took 294 ms on a loaded 2-core machine)
    assert 0 < click["median"] <= click["max"] < 2000
    first = measure_first_announcement(browser, live_server.url, token)
    assert 0 < first["announcement_first_audio_ms"] < 3000
    print(figures, first)
