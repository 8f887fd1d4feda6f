"""Defect 6: a server refusal shown inside an Arabic screen is Arabic, right to left, its full
stop at the left end, codes and numbers isolated; the page branches on the code only.

Checked where visitors and staff meet refusals: the console's sign-in, the kiosk's dossier
numbers, the back office's lookup (a message that names a tracking number) and the wall
display's refused connection."""
from __future__ import annotations

import re

import requests

from e2e.conftest import ADMIN_PASSWORD, kiosk_page
from queue_server.dossiers import ids

ARABIC = re.compile(r"[\u0600-\u06FF]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")

# where the first and the last character of the message are drawn, and its direction
LAYOUT_JS = r"""(sel) => {
  const el = document.querySelector(sel);
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) if (walker.currentNode.textContent.trim()) nodes.push(walker.currentNode);
  const node = nodes.sort((a, b) => b.textContent.length - a.textContent.length)[0];
  const text = node.textContent;
  const first = text.search(/\S/), last = text.length - 1 - text.split("").reverse().join("").search(/\S/);
  function rect(i) { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
                     return r.getClientRects()[0]; }
  const a = rect(first), b = rect(last);
  const line = Array.from({length: text.length}, (_, i) => i).filter(i => text[i].trim())
    .map(rect).filter(r => r && Math.abs(r.top - b.top) < 2);
  return { text: el.innerText, direction: getComputedStyle(node.parentElement).direction,
           firstRight: a.right, lastLeft: b.left, lastChar: text[last],
           lastIsLeftmost: line.every(r => r.left >= b.left - 0.5),
           oneLine: Math.abs(a.top - b.top) < 2 };
}"""


def assert_arabic_message(page, selector, expected=None):
    page.wait_for_function(f"(document.querySelector({selector!r}) || {{}}).innerText", timeout=8000)
    got = page.evaluate(LAYOUT_JS, selector)
    text = got["text"]
    assert ARABIC.search(text), f"not Arabic: {text!r}"
    assert not LATIN_WORD.search(re.sub(r"\u2068[^\u2069]*\u2069", "", text)), \
        f"English words outside isolated values: {text!r}"
    if expected:
        assert expected.strip() in text, (expected, text)
    assert got["direction"] == "rtl", got
    if got["lastChar"] in ".؟!":  # the sentence ends at the left
        assert got["lastIsLeftmost"], got
    if got["oneLine"]:
        assert got["firstRight"] > got["lastLeft"], f"the sentence must start on the right: {got}"
    return text


def test_6_arabic_refusals_are_arabic_and_right_to_left(kiosk_server, admin, browser, artifacts):
    url = kiosk_server.url
    # the console's sign-in
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    page = ctx.new_page()
    try:
        page.goto(url + "/console/?lang=ar")
        page.fill("#username", "nobody")
        page.fill("#password", "wrong-password")
        page.click("#login-submit")
        assert_arabic_message(page, "#message", "اسم المستخدم أو كلمة المرور غير صحيحة")
        page.screenshot(path=str(artifacts / "error-console-login-ar.png"))

        # the back office: a message that names a tracking number (isolated inside Arabic)
        page.goto(url + "/backoffice/?lang=ar")
        page.fill("#username", "admin")
        page.fill("#password", ADMIN_PASSWORD)
        page.click("#login-form button")
        page.wait_for_selector("#main-view:not([hidden])")
        page.fill("#lookup", "2345-6789")
        page.press("#lookup", "Enter")
        expected = requests.get(url + "/api/v1/dossiers/2345-6789", timeout=10, headers={
            "Authorization": "Bearer " + kiosk_server.token(),
            "Accept-Language": "ar"}).json()["error"]["message"]
        assert "\u2068" in expected, "the server isolates the number inside the Arabic sentence"
        assert_arabic_message(page, "#message", expected)
        page.screenshot(path=str(artifacts / "error-backoffice-ar.png"))
    finally:
        ctx.close()

    # the kiosk: an insured number with a wrong check digit
    ctx, page = kiosk_page(browser, kiosk_server, admin, (1080, 1920), "ar")
    try:
        page.click("#dossier-link")
        page.click('.dossier-type[data-type="old_age_pension"]')
        good = "12345678" + ids.luhn_digit("12345678")
        page.fill("#insured", good[:-1] + str((int(good[-1]) + 1) % 10))
        page.click("#ids-next")
        assert_arabic_message(page, "#d-error")
        page.screenshot(path=str(artifacts / "error-kiosk-insured-ar.png"))
    finally:
        ctx.close()

    # the wall display refused (an unknown zone): the server's reason, in Arabic, readable
    token = admin.post("/devices", {"role": "display", "name": "TV"}).json()["token"]
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = ctx.new_page()
    try:
        page.goto(f"{url}/display/?zone=nowhere#token={token}")
        page.wait_for_selector("#refused:not([hidden])")
        text = page.inner_text("#refused")
        assert "nowhere" in text
        reason = page.evaluate(LAYOUT_JS, "#refused-reason")
        assert reason["direction"] == "rtl", reason
        assert ARABIC.search(reason["text"]), reason
        page.screenshot(path=str(artifacts / "error-display-zone-ar.png"))
    finally:
        ctx.close()
