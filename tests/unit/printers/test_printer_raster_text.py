"""Arabic and mixed text as raster: direction, joining, digit order, wrapping, shrinking."""

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from printers.errors import TextShapingUnavailable
from printers.labels import label
from printers.raster_text import RasterStyle, direction_of, render_text, wrap_text
from support.pixels import components, ink_box, ink_columns, ink_segments, nearly_same, same_pixels

START = RasterStyle(size=28, align="start")


def test_direction_from_language_or_first_strong_character():
    assert direction_of("Agence", "ar") == "rtl"
    assert direction_of("وكالة", "fr") == "ltr"
    assert direction_of("2026 وكالة Agence") == "rtl"
    assert direction_of("CNSS · الصندوق") == "ltr"


def test_first_arabic_word_is_printed_at_the_right():
    # "مرحبا بكم" (welcome): the first logical word must be the rightmost on paper.
    line = render_text("مرحبا بكم", 576, START)
    first = render_text("مرحبا", 576, START)
    second = render_text("بكم", 576, START)
    (left_x0, left_x1), (right_x0, right_x1) = ink_segments(line)
    first_w = ink_segments(first)[0][1] - ink_segments(first)[0][0]
    second_w = ink_segments(second)[0][1] - ink_segments(second)[0][0]
    assert abs(first_w - second_w) > 10  # the words are told apart by width
    assert abs((right_x1 - right_x0) - first_w) <= 2
    assert abs((left_x1 - left_x0) - second_w) <= 2
    box = (right_x0, 0, right_x1, line.height)
    assert nearly_same(line.crop(box), first.crop(box))


def test_arabic_letters_are_joined():
    # س ل م have no dots: joined they are one blob, unjoined three.
    joined = render_text("سلم", 200, RasterStyle(size=40))
    assert components(joined) == 1
    isolated = render_text("\ufeb1 \ufedd \ufee1", 300, RasterStyle(size=40))  # isolated presentation forms
    assert components(isolated) == 3


def test_date_after_arabic_label_keeps_its_digit_order():
    text = label("deposited_at_line", "ar", at="2026-11-23 10:05")
    line = render_text(text, 576, RasterStyle(size=28, align="end"), lang="ar")  # end of RTL: left edge
    date = render_text("2026-11-23 10:05", 576, RasterStyle(size=28, align="start"), lang="fr")
    cols = ink_columns(date)
    box = (cols[0], 0, cols[-1] + 1, date.height)
    assert same_pixels(line.crop(box), date.crop(box))
    reversed_date = render_text("23-11-2026 10:05", 576, RasterStyle(size=28, align="start"), lang="fr")
    assert not same_pixels(line.crop(box), reversed_date.crop(box))


def test_long_arabic_paragraph_wraps_with_first_words_on_first_line_at_the_right():
    words = "سيتم دراسة ملفك خلال خمسة عشر يوم عمل وتابع حالته بالرمز أو عبر الكشك".split()
    text = " ".join(words)
    wrapped = wrap_text(text, 384, START, lang="ar")
    assert len(wrapped.lines) >= 2
    assert " ".join(wrapped.lines).split() == words  # nothing lost, logical order
    assert wrapped.lines[0].split()[0] == words[0]
    image = render_text(text, 384, START, lang="ar")
    first_line = image.crop((0, 0, 384, image.height // len(wrapped.lines)))
    left, _, right, _ = ink_box(first_line)
    assert right >= 384 - START.margin - 4  # start of an RTL line is the right margin (± bearing)


def test_wrapped_text_is_never_cut():
    text = "Allocations familiales et prestations de maladie pour les travailleurs indépendants"
    for width in (384, 576):
        wrapped = wrap_text(text, width, RasterStyle(size=28), lang="fr")
        assert len(wrapped.lines) > 1
        avail = width - 2 * RasterStyle().margin
        assert all(wrapped.shaper.length(line) <= avail for line in wrapped.lines)
        left, _, right, _ = ink_box(render_text(text, width, RasterStyle(size=28), lang="fr"))
        assert left >= RasterStyle().margin - 1 and right <= width - RasterStyle().margin + 1


def test_a_word_wider_than_the_paper_shrinks_then_breaks():
    word = "Anticonstitutionnellement"
    shrunk = wrap_text(word, 384, RasterStyle(size=40))
    assert shrunk.lines == [word] and shrunk.size < 40
    broken = wrap_text(word * 3, 384, RasterStyle(size=40))
    assert len(broken.lines) > 1 and "".join(broken.lines) == word * 3
    assert all(broken.shaper.length(line) <= 384 - 16 for line in broken.lines)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["وكالة", "الحي", "Agence", "A-042", "2026-11-23", "Hassani", "التعويضات",
                                 "Allocations", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]), min_size=1, max_size=14),
       st.sampled_from([384, 576]))
def test_any_text_fits_the_paper(words, width):
    text = " ".join(words)
    style = RasterStyle(size=30)
    wrapped = wrap_text(text, width, style)
    avail = width - 2 * style.margin
    assert all(wrapped.shaper.length(line) <= avail for line in wrapped.lines)
    assert "".join("".join(wrapped.lines).split()) == "".join(words)


def test_fallback_without_raqm_and_without_packages_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "arabic_reshaper", None)
    with pytest.raises(TextShapingUnavailable, match="libraqm0"):
        render_text("مرحبا", 384, raqm=False)
