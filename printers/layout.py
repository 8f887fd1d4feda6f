"""Queue tickets and deposit receipts as blocks, for 58 mm (384 dots) and 80 mm (576 dots) paper.

Every line is native printer text when the paper's code page can print it
(the ticket code, Latin lines), else a raster strip (Arabic, mixed scripts).
Lines in several languages follow ``languages``: the visitor's first.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from . import native_text
from .blocks import Block, CutBlock, FeedBlock, ImageBlock, Paper, TextBlock, paper_for
from .documents import DepositPrint, TicketPrint
from .graphics import logo_image, qr_image, rule_image
from .labels import is_rtl_language, label, minutes, pick
from .preview import compose
from .raster_text import RasterStyle, has_tifinagh, render_text

__all__ = [
    "TicketPrint", "DepositPrint", "render_ticket", "render_deposit",
    "render_ticket_image", "render_deposit_image", "render_image",
]


@dataclass(frozen=True)
class Role:
    """How one kind of line looks: as native text and as raster."""

    bold: bool
    width_mult: int
    height_mult: int
    raster_size: int


TITLE = Role(bold=True, width_mult=1, height_mult=2, raster_size=32)
HEADING = Role(bold=True, width_mult=1, height_mult=1, raster_size=27)
BODY = Role(bold=False, width_mult=1, height_mult=1, raster_size=27)
SMALL = Role(bold=False, width_mult=1, height_mult=1, raster_size=22)


class _Receipt:
    """Collects blocks for one paper width."""

    def __init__(self, paper: Paper) -> None:
        self.paper = paper
        self.width = paper.width_dots
        self.blocks: list[Block] = []

    def line(self, text: str, role: Role = BODY, *, lang: str | None = None, align: str = "center") -> None:
        """A paragraph: native when the code page prints it, else raster; wrapped, never cut."""
        text = " ".join(text.split()) if "\n" not in text else text
        if not text:
            return
        rtl = is_rtl_language(lang) if lang else False
        if self.paper.native_text and native_text.is_native(text, self.paper.codepage):
            native_align = {"start": "right" if rtl else "left", "end": "left" if rtl else "right"}.get(align, align)
            cols = native_text.columns(self.width, role.width_mult)
            for part in (p for paragraph in text.split("\n") for p in native_text.wrap(paragraph, cols)):
                self.blocks.append(TextBlock(part, native_align, role.bold, role.width_mult, role.height_mult))
            return
        style = RasterStyle(size=role.raster_size, bold=role.bold, align=align)
        self.blocks.append(ImageBlock(render_text(text, self.width, style, lang=lang), "text", text))

    def lines(self, texts: list[tuple[str, str]], role: Role = BODY, align: str = "center") -> None:
        """(lang, text) pairs; a text identical to one already printed is skipped."""
        seen: set[str] = set()
        for lang, text in texts:
            if text and text not in seen:
                seen.add(text)
                self.line(text, role, lang=lang, align=align)

    def joined(self, texts: list[str], role: Role = SMALL) -> None:
        """Short labels of all languages on one line ("رقمك · Votre numéro"), wrapped if long.
        Tifinagh beside Arabic gets a line each (two scripts in two directions, two fonts)."""
        unique = list(dict.fromkeys(t for t in texts if t))
        if any(has_tifinagh(t) for t in unique) and any(
                not has_tifinagh(t) and not native_text.is_native(t, self.paper.codepage)
                for t in unique):
            for text in unique:
                self.line(text, role)
            return
        self.line(" · ".join(unique), role)

    def big(self, text: str, max_mult: int) -> None:
        """The ticket code or a tracking number: native with character multipliers, as big as fits."""
        if self.paper.native_text and native_text.is_native(text, self.paper.codepage):
            if len(text) > native_text.columns(self.width):  # not even one size fits: wrap
                self.line(text, HEADING)
                return
            mult = native_text.fit_multiplier(text, self.width, max_mult)
            self.blocks.append(TextBlock(text, "center", True, mult, mult))
            return
        style = RasterStyle(size=24 * max_mult, bold=True, min_size=20)
        self.blocks.append(ImageBlock(render_text(text, self.width, style), "text", text))

    def bullet(self, text: str, lang: str) -> None:
        """A list item: "- " where the code page prints the line natively, "• " in raster."""
        native = f"- {text}"
        self.line(native if native_text.is_native(native, self.paper.codepage) else f"• {text}",
                  BODY, lang=lang, align="start")

    def feed(self, dots: int) -> None:
        self.blocks.append(FeedBlock(dots))

    def rule(self) -> None:
        self.feed(8)
        self.blocks.append(ImageBlock(rule_image(self.width), "rule"))
        self.feed(10)

    def logo(self, path: str | None) -> None:
        if path:
            image = logo_image(path, self.width, max_height=120)
            if image is not None:
                self.blocks.append(ImageBlock(image, "logo"))
                self.feed(12)

    def qr(self, url: str | None) -> None:
        if url:
            target = self.width * 2 // 5 if self.width > 400 else self.width // 2
            self.feed(12)
            self.blocks.append(ImageBlock(qr_image(url, self.width, target), "qr", url))
            self.feed(8)

    def free_lines(self, lines: list[str]) -> None:
        for text in lines:
            self.line(text, SMALL)

    def end(self) -> list[Block]:
        self.feed(16)
        self.blocks.append(CutBlock())
        return self.blocks


def _per_language(texts: dict[str, str], languages: list[str]) -> list[tuple[str, str]]:
    return [(lang, pick(texts, lang) or "") for lang in languages]


def _each(languages: list[str], key: str, **values: object) -> list[tuple[str, str]]:
    return [(lang, label(key, lang, **values)) for lang in languages]


def render_ticket(ticket: TicketPrint, paper: Paper | str | int = "80mm") -> list[Block]:
    """The blocks of a queue ticket: big code, people ahead and wait, QR at the bottom."""
    r = _Receipt(paper_for(paper))
    langs = ticket.languages
    r.logo(ticket.logo_path)
    if ticket.copy:  # a reprint: nobody takes it for a second ticket
        r.lines(_each(langs, "copy"), HEADING)
    r.free_lines(ticket.header_lines)
    r.lines(_per_language(ticket.branch_name, langs), TITLE)
    r.rule()
    r.lines(_per_language(ticket.service_name, langs), HEADING)
    r.feed(14)
    r.joined([label("your_number", lang) for lang in langs])
    r.feed(4)
    r.big(ticket.code, r.paper.max_code_multiplier)
    if ticket.priority and ticket.priority != "normal":
        # a priority ticket says so, with its reason, in each language: the agent calling it
        # and the visitor both see why it may pass first
        r.feed(6)
        r.lines(_each(langs, "priority_ticket"), TITLE)
        r.lines(_each(langs, f"priority_{ticket.priority}"), HEADING)
    r.rule()
    if ticket.people_ahead > 0:
        r.lines(_each(langs, "people_ahead_line", n=ticket.people_ahead), HEADING)
    else:
        r.lines(_each(langs, "you_are_next"), HEADING)
    # the wait is printed whenever it is known and not nil: "you are next" at a busy
    # branch still means waiting for a counter to free up
    if ticket.estimated_wait_minutes:
        r.feed(6)
        r.lines([(lang, label("estimated_wait_line", lang,
                              minutes=minutes(ticket.estimated_wait_minutes, lang)))
                 for lang in langs], HEADING)
    r.feed(6)
    r.lines(_each(langs, "wait_for_call"), SMALL)
    r.rule()
    r.line(ticket.issued_at_local, SMALL)
    r.qr(ticket.qr_url)
    if ticket.qr_url:
        r.lines(_each(langs, "scan_ticket"), SMALL)
    r.free_lines(ticket.footer_lines)
    return r.end()


def render_deposit(receipt: DepositPrint, paper: Paper | str | int = "80mm") -> list[Block]:
    """The blocks of a deposit receipt: tracking number, documents, box, next steps, QR."""
    r = _Receipt(paper_for(paper))
    langs = receipt.languages
    r.logo(receipt.logo_path)
    if receipt.copy:
        r.lines(_each(langs, "copy"), HEADING)
    r.free_lines(receipt.header_lines)
    r.lines(_per_language(receipt.branch_name, langs), HEADING)
    r.rule()
    r.lines(_each(langs, "deposit_receipt"), TITLE)
    r.lines(_per_language(receipt.dossier_type, langs), BODY)
    r.feed(14)
    r.joined([label("tracking_number", lang) for lang in langs])
    r.feed(4)
    r.big(receipt.tracking_number, 2)
    r.feed(8)
    r.lines(_each(langs, "deposited_at_line", at=receipt.deposited_at_local), SMALL)
    r.lines(_each(langs, "box_line", box=receipt.box), SMALL)
    for lang in langs:
        names = [pick(doc, lang) for doc in receipt.documents]
        if not any(names):
            continue
        r.rule()
        r.line(label("documents", lang), HEADING, lang=lang, align="start")
        for name in names:
            if name:
                r.bullet(name, lang)
    if receipt.missing:
        # deposited after the kiosk's "missing: ..." warning: the receipt says it is
        # incomplete and lists what to bring, in each of the visitor's languages
        for lang in langs:
            r.rule()
            r.line(label("incomplete", lang), TITLE, lang=lang, align="start")
            r.line(label("missing_documents", lang), HEADING, lang=lang, align="start")
            for doc in receipt.missing:
                name = pick(doc, lang) or pick(doc, "fr") or next(iter(doc.values()), "")
                if name:
                    r.bullet(name, lang)
    for lang in langs:
        steps = pick(receipt.next_steps, lang)
        if steps:
            r.rule()
            r.line(label("next_steps", lang), HEADING, lang=lang, align="start")
            r.line(steps, BODY, lang=lang, align="start")
    r.qr(receipt.qr_url)
    if receipt.qr_url:
        r.lines(_each(langs, "scan_dossier"), SMALL)
    r.feed(6)
    r.lines(_each(langs, "keep_receipt"), HEADING)
    r.free_lines(receipt.footer_lines)
    return r.end()


def render_image(blocks: list[Block], paper: Paper | str | int = "80mm") -> Image.Image:
    """The whole receipt as one 1-bit picture (PNG previews, tests)."""
    return compose(blocks, paper_for(paper).width_dots)


def render_ticket_image(ticket: TicketPrint, paper: Paper | str | int = "80mm") -> Image.Image:
    return render_image(render_ticket(ticket, paper), paper)


def render_deposit_image(receipt: DepositPrint, paper: Paper | str | int = "80mm") -> Image.Image:
    return render_image(render_deposit(receipt, paper), paper)
