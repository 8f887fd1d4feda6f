"""ESC/POS bytes: native code text, raster pixels decoded back, trimming, byte budget."""

import pytest
from PIL import Image

from printers.blocks import CutBlock, FeedBlock, ImageBlock, Paper, TextBlock
from printers.encode import encode, trim
from printers.layout import render_deposit, render_image, render_ticket
from printers.samples import deposit_ar, ticket_ar_fr, ticket_en
from support.escpos_decoder import DecodeError, decode
from support.pixels import same_pixels

CASES = [
    (ticket_ar_fr, render_ticket, "80mm", 576),
    (ticket_en, render_ticket, "58mm", 384),
    (deposit_ar, render_deposit, "80mm", 576),
]


def test_ticket_code_is_sent_as_native_text_with_size_and_bold():
    payload = encode(render_ticket(ticket_ar_fr(), "80mm"), "80mm")
    assert b"\x1d!\x55" in payload  # GS ! : 6 x 6
    assert b"A-042\n" in payload
    assert payload.startswith(b"\x1b@\x1bt\x02")  # init, code page 2 = CP850
    assert "Attente estimée : 15 minutes\n".encode("cp850") in payload
    decoded = decode(payload, 576)
    code = decoded.text_block("A-042")
    assert (code.bold, code.width_mult, code.height_mult, code.align) == (True, 6, 6, "center")


@pytest.mark.parametrize("make, render, paper, width", CASES)
def test_raster_blocks_decode_back_to_the_same_pixels(make, render, paper, width):
    blocks = render(make(), paper)
    decoded = decode(encode(blocks, paper), width)
    sent = [b for b in blocks if isinstance(b, ImageBlock)]
    assert len(decoded.images) == len(sent)
    for original, back in zip(sent, decoded.images):
        assert same_pixels(original.image, back.image), original.kind
    native = [b for b in blocks if isinstance(b, TextBlock)]
    assert [b for b in decoded.blocks if isinstance(b, TextBlock)] == native
    # and the whole page a printer would make is the preview, dot for dot
    assert same_pixels(render_image(decoded.blocks, paper), render_image(blocks, paper))


def test_trim_keeps_the_position_of_the_ink():
    for x in (0, 3, 100, 250, 370):
        strip = Image.new("1", (384, 10), 255)
        strip.paste(0, (x, 2, x + 9, 8))
        cropped, align = trim(strip)
        assert cropped.width % 8 == 0 and cropped.width < 384
        decoded = decode(encode([ImageBlock(strip)], "58mm"), 384)
        assert same_pixels(decoded.images[0].image, strip), (x, align)


def test_untrimmed_raster_for_printers_that_ignore_alignment_on_images():
    blocks = render_ticket(ticket_ar_fr(), "80mm")
    paper = Paper("80mm-full", 576, trim_raster=False)
    full = encode(blocks, paper)
    assert len(full) > len(encode(blocks, "80mm")) + 5_000
    decoded = decode(full, 576)
    assert b"\x1ba\x01\x1dv0" not in full  # never centred: strips are as wide as the paper
    assert same_pixels(render_image(decoded.blocks, "80mm"), render_image(blocks, "80mm"))


def test_blank_raster_becomes_a_feed():
    decoded = decode(encode([ImageBlock(Image.new("1", (576, 30), 255))], "80mm"), 576)
    assert decoded.blocks == [FeedBlock(30)]


def test_feeds_and_cut():
    decoded = decode(encode([FeedBlock(40), CutBlock()], "80mm"), 576)
    assert decoded.blocks == [FeedBlock(40), CutBlock()]


def test_arabic_french_80mm_ticket_stays_small():
    blocks = render_ticket(ticket_ar_fr(), "80mm")
    payload = encode(blocks, "80mm")
    full_raster = 576 // 8 * render_image(blocks, "80mm").height
    assert len(payload) < 20_000  # measured 14.7 KB
    assert len(payload) < full_raster / 2  # a fully rasterised ticket would be ~74 KB
    assert len(encode(render_ticket(ticket_en(), "58mm"), "58mm")) < 5_000


def test_decoder_refuses_bytes_it_does_not_know():
    with pytest.raises(DecodeError):
        decode(b"\x1b\x99", 576)
    with pytest.raises(DecodeError):
        decode(b"text without line feed", 576)
