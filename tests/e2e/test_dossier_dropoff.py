"""A full dossier drop-off in Arabic at the kiosk, the receipt at a virtual
printer, the back office, and the phone status page following it live."""
from __future__ import annotations

import time

from e2e.conftest import ADMIN_PASSWORD, paired_kiosk
from queue_server.dossiers import ids
from support.escpos_decoder import decode


INSURED = "12345678" + ids.luhn_digit("12345678")


def test_dropoff_in_arabic_receipt_back_office_and_live_phone(kiosk_server, admin, printer,
                                                              browser, artifacts):
    admin.wait_printer_online()
    ctx, page = paired_kiosk(browser, kiosk_server, admin)
    page.click('.lang-button[data-lang="ar"]')
    page.wait_for_selector("#dossier-link")
    page.click("#dossier-link")
    page.wait_for_selector('.dossier-type[data-type="old_age_pension"]')
    assert page.get_attribute("html", "dir") == "rtl"
    page.click('.dossier-type[data-type="old_age_pension"]')

    # a wrong check digit first: a clear message, nothing recorded
    page.click("#insured")
    bad = INSURED[:-1] + str((int(INSURED[-1]) + 1) % 10)
    for ch in bad:
        page.click(f'#keypad button[data-key="{ch}"]')
    page.fill("#national", "BE123456")
    page.click("#ids-next")
    page.wait_for_selector("#d-error:not([hidden])")
    page.fill("#insured", INSURED)
    page.click("#ids-next")
    page.wait_for_selector("#step-docs:not([hidden])")
    for doc in ("claim_form", "national_id_copy", "bank_details", "inactivity_attestation"):
        page.click(f'label.doc[data-code="{doc}"] input')
    page.click("#docs-next")
    page.wait_for_selector("#step-warn:not([hidden])")
    assert page.inner_text('#warn-missing li[data-code="life_certificate"]') == \
        "شهادة الحياة (أقل من 3 أشهر)"
    page.screenshot(path=str(artifacts / "dossier-kiosk-warning-ar.png"))

    printer.clear()
    page.click("#deposit-anyway")
    page.wait_for_selector("#step-done:not([hidden])")
    shown = page.inner_text("#tracking")
    assert len(shown) == 9 and shown[4] == "-"
    page.screenshot(path=str(artifacts / "dossier-kiosk-done-ar.png"))
    assert INSURED not in page.content() and "BE123456" not in page.content()

    data = printer.wait_for(lambda d: shown.encode() in d or len(d) > 20000, timeout=10)
    decoded = decode(data, 576)
    from printers import render_image
    render_image(decoded.blocks, "80mm").save(artifacts / "dossier-receipt-ar-printed.png")
    assert decoded.text_block(shown), "the tracking number is printed as text on the receipt"
    assert INSURED.encode() not in data

    tracking = shown.replace("-", "")
    listed = admin.get("/dossiers?day=today")["dossiers"]
    assert [d["tracking"] for d in listed] == [tracking]

    # the phone follows the dossier
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    phone.goto(kiosk_server.url + f"/d/{tracking}?lang=ar")
    phone.wait_for_function("document.documentElement.dataset.connection === 'online'")
    assert phone.inner_text("#insured") == "******" + INSURED[-3:]

    # back office: sign in, open by the QR value, received, review, incomplete
    bo = ctx.new_page()
    bo.goto(kiosk_server.url + "/backoffice/?lang=fr")
    bo.fill("#username", "admin")
    bo.fill("#password", ADMIN_PASSWORD)
    bo.click("#login-form button")
    bo.wait_for_selector(f'#list tr[data-tracking="{tracking}"]')
    bo.fill("#lookup", f"{kiosk_server.url}/d/{tracking}")
    bo.press("#lookup", "Enter")
    bo.wait_for_selector('#detail[data-status="deposited"]')
    assert bo.inner_text("#d-insured") == INSURED
    bo.click('#actions button[data-action="receive"]')
    bo.wait_for_selector('#detail[data-status="received"]')
    bo.click('#actions button[data-action="review"]')
    bo.wait_for_selector('#detail[data-status="in_review"]')
    bo.click('#actions button[data-action="incomplete"]')
    bo.uncheck('#doc-boxes input[value="inactivity_attestation"]') if bo.is_checked(
        '#doc-boxes input[value="inactivity_attestation"]') else None
    bo.check('#doc-boxes input[value="life_certificate"]')
    bo.click("#confirm-incomplete")
    bo.wait_for_selector('#detail[data-status="incomplete"]')
    bo.screenshot(path=str(artifacts / "dossier-backoffice-incomplete.png"))

    # the phone changed by itself, without a reload
    phone.wait_for_selector('body[data-status="incomplete"]', timeout=5000)
    assert phone.inner_text("#status") == "غير مكتمل"
    assert phone.inner_text('#missing li[data-code="life_certificate"]') == \
        "شهادة الحياة (أقل من 3 أشهر)"
    assert phone.evaluate("performance.getEntriesByType('navigation').length") == 1
    phone.screenshot(path=str(artifacts / "dossier-phone-incomplete-ar.png"))
