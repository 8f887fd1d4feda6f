"""Defect 9, the wall display: readable from across a hall at 1280x720 (every text at least
MIN_PX), a ticket once in the history and never the one being called, a calm empty state
(no bars of dashes), closed services readable (contrast at least 4.5:1)."""
from __future__ import annotations

from display.web.measure import open_display
from e2e.conftest import Admin
from support.screens import contrasts, smallest_text

MIN_PX = 24  # at 1280x720: 36 px at 1920x1080


def history(display):
    return display.eval_on_selector_all(
        "#calls tbody tr", "rows => rows.map(r => r.querySelector('.code-cell').textContent)")


def test_9_display_history_empty_state_contrast_and_sizes(live_server, browser, artifacts):
    admin = Admin(live_server).ok
    token = admin("/devices", {"role": "display", "name": "hall"})["token"]
    dctx, display = open_display(browser, live_server.url, token, viewport=(1280, 720))
    try:
        # empty: a welcome, no giant dashes
        assert display.locator("#latest").get_attribute("data-empty") == "true"
        big_dashes = display.evaluate("""() => Array.from(document.querySelectorAll('body *'))
          .filter(e => e.offsetParent && /^[\u2014\u2013-]+$/.test(e.textContent.trim()) &&
                       parseFloat(getComputedStyle(e).fontSize) > 40).length""")
        assert big_dashes == 0
        display.screenshot(path=str(artifacts / "display-empty-1280x720.png"))

        # closed services (nothing is open yet) read at 4.5:1 or better
        closed = contrasts(display, ".svc.closed")
        assert closed and min(c["ratio"] for c in closed) >= 4.5, \
            sorted(closed, key=lambda c: c["ratio"])[:3]

        a = admin("/tickets", {"service": "A", "language": "ar"})
        b = admin("/tickets", {"service": "B", "language": "fr"})
        c = admin("/tickets", {"service": "A", "language": "fr"})
        admin("/counters/1/open")
        admin("/counters/2/open")
        admin("/counters/1/call-next")
        display.wait_for_function("window.tabourDisplay.shown.length === 1")
        assert history(display) == [], "the ticket being called is not in the history"
        admin("/counters/1/recall")
        display.wait_for_function("window.tabourDisplay.shown.length === 2")
        assert display.text_content("#latest-code") == a["code"]
        assert history(display) == [], "a recall is not a second row"
        called = admin("/counters/2/call-next")
        display.wait_for_function("window.tabourDisplay.shown.length === 3")
        assert display.text_content("#latest-code") == called["code"]
        assert history(display) == [a["code"]]
        admin("/counters/3/open")  # serves B, then A: whichever of b and c is left
        admin("/counters/3/call-next")
        display.wait_for_function("window.tabourDisplay.shown.length === 4")
        rows = history(display)
        assert len(rows) == len(set(rows)) == 2 and display.text_content("#latest-code") not in rows
        assert {b["code"], c["code"]} >= {display.text_content("#latest-code")}

        # every text at least MIN_PX at 1280x720
        small = [t for t in smallest_text(display) if t["px"] < MIN_PX]
        assert not small, f"text below {MIN_PX}px at 1280x720: {small[:6]}"
        display.screenshot(path=str(artifacts / "display-calls-1280x720.png"))
        display.set_viewport_size({"width": 1920, "height": 1080})
        display.screenshot(path=str(artifacts / "display-calls-1920x1080.png"))
        assert min(t["px"] for t in smallest_text(display)) >= MIN_PX * 1.5 - 1
    finally:
        dctx.close()
