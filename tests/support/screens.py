"""What the screen tests measure in the browser: contrast, font sizes, axe-core, layout.

Contrast is computed here, not taken from axe: axe reports text over a colour it
cannot resolve (a key on a default button face, text over a gradient) as
"incomplete", not as a violation, and the kiosk keypad hid behind exactly that.
The text colour and the first opaque background up the tree are blended with every
ancestor's opacity, then compared with the WCAG 2 formula.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from support.server import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

# every element with text of its own inside a button, a link styled as one, a key:
# its colour against what is behind it, as the visitor sees it
CONTRAST_JS = r"""(selector) => {
  function parse(c) {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  }
  function over(top, bottom) {  // top (with alpha) over an opaque bottom
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  }
  function lum(c) {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  }
  function background(el) {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let bg = [255, 255, 255, 1];  // the canvas
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  }
  function opacity(el) {
    let o = 1;
    for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
    return o;
  }
  function visible(el) {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none";
  }
  const out = [];
  document.querySelectorAll(selector).forEach(root => {
    if (!visible(root) || root.disabled) return;
    const parts = [root, ...root.querySelectorAll("*")].filter(e =>
      Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim()) && visible(e));
    parts.forEach(e => {
      const bg = background(e);
      let fg = parse(getComputedStyle(e).color);
      fg = over(fg, bg);
      const o = opacity(e);
      fg = over([fg[0], fg[1], fg[2], o], bg);  // a faded element fades into what is behind
      const a = lum(fg), b = lum(bg);
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      out.push({ text: e.textContent.trim().slice(0, 40), ratio: Math.round(ratio * 100) / 100,
                 fg: fg.slice(0, 3).map(Math.round), bg: bg.slice(0, 3).map(Math.round),
                 tag: root.tagName.toLowerCase(), id: root.id || "", cls: root.className || "" });
    });
  });
  return out;
}"""

# the smallest text on the page: every element with text of its own that is visible
FONT_SIZES_JS = r"""() => {
  const out = [];
  document.querySelectorAll("body *").forEach(e => {
    if (!Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim())) return;
    const r = e.getBoundingClientRect(), s = getComputedStyle(e);
    if (!(r.width > 0 && r.height > 0) || s.visibility === "hidden") return;
    if (e.closest("[hidden]") || e.closest("[aria-hidden=true]")) return;
    out.push({ text: e.textContent.trim().slice(0, 30), px: parseFloat(s.fontSize),
               cls: e.className || e.tagName });
  });
  return out;
}"""


def contrasts(page, selector: str = "button, [role=button], .key, a.primary, a.chip") -> list[dict]:
    return page.evaluate(CONTRAST_JS, selector)


def low_contrast(page, selector: str = "button, [role=button], .key, a.primary, a.chip",
                 minimum: float = 4.5) -> list[dict]:
    return [c for c in contrasts(page, selector) if c["ratio"] < minimum]


def smallest_text(page) -> list[dict]:
    return sorted(page.evaluate(FONT_SIZES_JS), key=lambda x: x["px"])


def axe(page, context: str | None = None) -> dict:
    """Run axe-core (from npm) in the page. The page's context must bypass CSP."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate("""async (ctx) => {
      const r = await axe.run(ctx ? document.querySelector(ctx) : document,
                              { resultTypes: ["violations"] });
      return { violations: r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.map(n => ({ target: n.target.join(" "), summary: n.failureSummary })) })) };
    }""", context)


def serious(result: dict) -> list[dict]:
    return [v for v in result["violations"] if v["impact"] in ("critical", "serious")]


def in_viewport(page, selector: str) -> bool:
    return page.evaluate("""(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
      return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth &&
             r.width > 0 && r.height > 0; }""", selector)


def child_pids(pid: int) -> list[int]:
    """The processes a server started (its printer agent), to end them by id."""
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    except FileNotFoundError:
        return []
    return [int(x) for x in out.split()]


def end_pids(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, 15)
        except ProcessLookupError:
            pass


def wait_until(predicate, timeout: float = 10.0, every: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"{what} not met within {timeout} s (last: {last!r})")


def dump(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
