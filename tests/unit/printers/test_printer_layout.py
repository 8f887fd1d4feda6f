"""Ticket and deposit layouts: what is native, what is raster, widths, wrapping, the preview."""

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from printers import native_text
from printers.blocks import PAPER_58MM, PAPER_80MM, CutBlock, ImageBlock, Paper, TextBlock
from printers.labels import LABELS
from printers.layout import render_deposit, render_image, render_ticket, render_ticket_image
from printers.samples import deposit_ar, ticket_ar_fr, ticket_en
from support.pixels import ink_box


def texts(blocks):
    return [b.text for b in blocks if isinstance(b, TextBlock)]


def rasters(blocks, kind=None):
    return [b for b in blocks if isinstance(b, ImageBlock) and (kind is None or b.kind == kind)]


@pytest.mark.parametrize("paper", [PAPER_58MM, PAPER_80MM])
def test_every_block_is_exactly_as_wide_as_the_paper(paper):
    for blocks in (render_ticket(ticket_ar_fr(), paper), render_deposit(deposit_ar(), paper)):
        for block in rasters(blocks):
            assert block.image.width == paper.width_dots
        for block in blocks:
            if isinstance(block, TextBlock):
                assert len(block.text) * native_text.CELL_W * block.width_mult <= paper.width_dots
        assert isinstance(blocks[-1], CutBlock)


def test_ticket_code_is_native_huge_and_latin_lines_are_native():
    blocks = render_ticket(ticket_ar_fr(), "80mm")
    code = next(b for b in blocks if isinstance(b, TextBlock) and b.text == "A-042")
    assert code.bold and code.width_mult == code.height_mult == 6 and code.align == "center"
    assert "Personnes avant vous : 7" in texts(blocks)
    assert "Attente estimée : 15 minutes" in texts(blocks)
    assert "Agence Hay Hassani" in texts(blocks)
    arabic = [b.source_text for b in rasters(blocks, "text")]
    assert "وكالة الحي الحسني" in arabic
    assert any(t.startswith("عدد الأشخاص قبلك") for t in arabic)
    # the visitor's language comes first
    order = [b.source_text if isinstance(b, ImageBlock) else b.text for b in blocks
             if isinstance(b, (ImageBlock, TextBlock))]
    assert order.index("وكالة الحي الحسني") < order.index("Agence Hay Hassani")
    assert rasters(blocks, "qr") and order.index(ticket_ar_fr().qr_url) > order.index("A-042")


def test_code_multiplier_follows_the_paper_and_code_length():
    t = ticket_en()
    assert next(b for b in render_ticket(t, "58mm") if isinstance(b, TextBlock) and b.text == "A-042").width_mult == 6
    long = dataclasses.replace(t, code="PRIO-A-1042")  # 11 chars: 576 / (11 * 12) = 4
    big = next(b for b in render_ticket(long, "80mm") if isinstance(b, TextBlock) and b.text == "PRIO-A-1042")
    assert big.width_mult == 4
    small = next(b for b in render_ticket(long, "58mm") if isinstance(b, TextBlock) and b.text == "PRIO-A-1042")
    assert small.width_mult == 2


def test_english_58mm_ticket_is_all_native_except_qr_and_rules():
    blocks = render_ticket(ticket_en(), "58mm")
    assert {b.kind for b in rasters(blocks)} == {"qr", "rule"}
    assert "People ahead of you: 7" in texts(blocks)


def test_over_long_native_text_wraps_by_words_within_the_columns():
    service = "Prestations familiales et indemnités journalières de maladie et de maternité"
    t = dataclasses.replace(ticket_en(), service_name={"en": service})
    for paper in (PAPER_58MM, PAPER_80MM):
        lines = [b for b in render_ticket(t, paper) if isinstance(b, TextBlock) and b.bold and b.width_mult == 1
                 and b.height_mult == 1]
        cols = native_text.columns(paper.width_dots)
        service_lines = [b.text for b in lines if b.text.split()[0] in service.split()]
        assert len(service_lines) >= 2
        assert " ".join(service_lines) == service
        assert all(len(line) <= cols for line in service_lines)


def test_over_long_arabic_service_name_wraps_in_raster_and_is_not_cut():
    service = "طلب الاستفادة من التعويضات العائلية والمنح الدراسية وتعويضات الأمومة والمرض"
    t = dataclasses.replace(ticket_ar_fr(), service_name={"ar": service, "fr": "Allocations"})
    for paper in (PAPER_58MM, PAPER_80MM):
        block = next(b for b in rasters(render_ticket(t, paper)) if b.source_text == service)
        single_line = next(b for b in rasters(render_ticket(ticket_ar_fr(), paper))
                           if b.source_text == "التعويضات العائلية")
        assert block.image.height > 1.5 * single_line.image.height  # wrapped on several lines
        left, _, right, _ = ink_box(block.image)
        assert left > 0 and right < paper.width_dots


@settings(max_examples=25, deadline=None)
@given(st.text(alphabet="abcdefghij éèà-'", min_size=1, max_size=200).filter(str.strip))
def test_native_wrap_keeps_every_character(text):
    for cols in (32, 48):
        lines = native_text.wrap(text, cols)
        assert all(len(line) <= cols for line in lines)
        assert "".join("".join(lines).split()) == "".join(text.split())


def test_latin_text_outside_the_code_page_goes_raster():
    assert native_text.is_native("Personnes avant vous : 7", "CP850")
    assert not native_text.is_native("Agence — centrale", "CP850")  # em dash is not in CP850
    assert not native_text.is_native("وكالة", "CP850")
    t = dataclasses.replace(ticket_en(), header_lines=["Agence — centrale"])
    assert "Agence — centrale" in [b.source_text for b in rasters(render_ticket(t, "80mm"))]


def test_paper_without_native_text_prints_everything_as_raster():
    paper = Paper("80mm-raster", 576, native_text=False)
    blocks = render_ticket(ticket_en(), paper)
    assert texts(blocks) == []
    assert "A-042" in [b.source_text for b in rasters(blocks)]


def test_no_one_ahead_says_you_are_next():
    t = dataclasses.replace(ticket_en(), people_ahead=0)
    assert "You are next" in texts(render_ticket(t, "58mm"))


def test_deposit_receipt_lists_documents_in_each_language():
    receipt = dataclasses.replace(deposit_ar(), languages=["ar", "fr"])
    blocks = render_deposit(receipt, "80mm")
    assert "D-2026-004217" in texts(blocks)
    assert "- Copie de la CNIE" in texts(blocks)
    assert "• نسخة من البطاقة الوطنية للتعريف" in [b.source_text for b in rasters(blocks)]
    assert "Boîte de dépôt : Box B" in texts(blocks)


def test_missing_logo_is_skipped_not_fatal(tmp_path):
    t = dataclasses.replace(ticket_en(), logo_path=str(tmp_path / "missing.png"))
    assert rasters(render_ticket(t, "58mm"), "logo") == []


def test_logo_is_scaled_and_printed_first(tmp_path):
    from PIL import Image
    path = tmp_path / "logo.png"
    Image.new("RGB", (1000, 400), (0, 90, 160)).save(path)
    blocks = render_ticket(dataclasses.replace(ticket_en(), logo_path=str(path)), "58mm")
    logo = blocks[0]
    assert isinstance(logo, ImageBlock) and logo.kind == "logo"
    assert logo.image.width == 384 and logo.image.height <= 120


def test_preview_is_one_image_of_the_paper_width():
    image = render_ticket_image(ticket_ar_fr(), "80mm")
    assert image.width == 576 and image.height > 600
    blocks = render_ticket(ticket_en(), "58mm")
    assert render_image(blocks, "58mm").width == 384


def test_every_label_exists_in_arabic_french_and_english():
    from printers.catalogs import text
    for key, source in LABELS.items():
        missing = [lang for lang in ("ar", "fr", "en") if text(source, lang) is None]
        assert not missing, f"{key} ({source!r}) is not in the catalogs of {missing}"


def test_a_code_too_long_for_one_line_wraps_instead_of_being_cut():
    code = "X" * 40 + " " + "Y" * 20
    blocks = render_ticket(dataclasses.replace(ticket_en(), code=code), "58mm")
    lines = [b.text for b in blocks if isinstance(b, TextBlock) and b.text.strip("XY ") == ""]
    assert lines == ["X" * 32, "X" * 8 + " " + "Y" * 20]  # 32 columns on 58 mm


def test_a_priority_ticket_is_marked_with_its_reason_in_each_language():
    blocks = render_ticket(dataclasses.replace(ticket_ar_fr(), priority="elderly"), "80mm")
    assert "TICKET PRIORITAIRE" in texts(blocks) and "Personne âgée" in texts(blocks)
    arabic = [b.source_text for b in rasters(blocks, "text")]
    assert "تذكرة ذات أولوية" in arabic and "شخص مسن" in arabic
    normal = render_ticket(ticket_ar_fr(), "80mm")
    assert "TICKET PRIORITAIRE" not in texts(normal)


def test_an_incomplete_deposit_lists_what_to_bring_in_each_language():
    missing = [{"ar": "شهادة الحياة", "fr": "Certificat de vie", "en": "Life certificate"}]
    receipt = dataclasses.replace(deposit_ar(), languages=["ar", "fr"], missing=missing)
    blocks = render_deposit(receipt, "80mm")
    assert "Dossier incomplet" in texts(blocks)
    assert "- Certificat de vie" in texts(blocks)
    arabic = [b.source_text for b in rasters(blocks, "text")]
    assert "ملف ناقص" in arabic and "• شهادة الحياة" in arabic  # the kiosk's words
    assert "Dossier incomplet" not in texts(render_deposit(deposit_ar(), "80mm"))


def test_tamazight_lines_are_tifinagh_raster_and_never_share_a_line_with_arabic():
    ticket = dataclasses.replace(ticket_ar_fr(), languages=["zgh", "ar"])
    blocks = render_ticket(ticket, "80mm")
    sources = [b.source_text for b in rasters(blocks, "text")]
    assert "ⴰⵎⴹⴰⵏ ⵏⵏⴽ" in sources and "رقمك" in sources  # one line each, not "x · y"
    tif = next(b for b in rasters(blocks, "text") if b.source_text == "ⴰⵎⴹⴰⵏ ⵏⵏⴽ")
    assert ink_box(tif.image) is not None  # drawn (Noto Sans Tifinagh), not blank boxes
