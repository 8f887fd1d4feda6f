"""Defect 10: the visitor's phone page speaks the ticket's language (not the phone's), the QR
link carries it, the page offers a switch, and its Arabic says it updates itself."""
from __future__ import annotations

import json

from e2e.conftest import kiosk_page


def test_10_phone_page_in_the_ticket_language(kiosk_server, admin, browser, artifacts):
    admin.post("/counters/1/open")
    ctx, page = kiosk_page(browser, kiosk_server, admin, (1080, 1920), "fr")
    issued = []
    page.on("response", lambda r: issued.append(r) if r.url.endswith("/api/v1/kiosk/tickets")
            else None)
    try:
        page.click('.service[data-prefix="A"]')
        page.wait_for_selector("#ticket-screen:not([hidden])")
        body = json.loads(issued[-1].text())
    finally:
        ctx.close()
    url = body["url"]
    assert url.endswith("?lang=fr"), f"the QR link carries the ticket's language: {url}"
    ref = url.split("/t/")[1].split("?")[0]

    # a phone set to Arabic opens the link without ?lang: the ticket's language wins
    phone_ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                    locale="ar-MA", extra_http_headers={"Accept-Language": "ar"})
    phone = phone_ctx.new_page()
    try:
        phone.goto(f"{kiosk_server.url}/t/{ref}")
        assert phone.evaluate("document.documentElement.lang") == "fr"
        assert "Votre ticket" in phone.inner_text("body")
        phone.screenshot(path=str(artifacts / "phone-ticket-fr.png"))
        switch = phone.locator('.langs a[lang="ar"]')
        assert switch.is_visible()
        switch.click()
        phone.wait_for_function("document.documentElement.lang === 'ar'")
        assert phone.evaluate("document.documentElement.dir") == "rtl"
        text = phone.inner_text("body")
        assert "تتحدث" not in text, "the page does not talk"
        assert "تلقائي" in text  # it updates by itself
        phone.wait_for_function("document.documentElement.dataset.connection === 'online'")
        phone.screenshot(path=str(artifacts / "phone-ticket-ar.png"))
    finally:
        phone_ctx.close()
