"""One picture of a whole receipt, as a person would see the paper (PNG previews, tests)."""

from __future__ import annotations

from collections.abc import Iterable

from PIL import Image, ImageDraw

from . import native_text
from .blocks import Block, CutBlock, FeedBlock, ImageBlock, TextBlock

TOP_MARGIN = 16
CUT_SPACE = 24


def block_image(block: Block, width: int) -> Image.Image:
    if isinstance(block, TextBlock):
        return native_text.draw_line(block, width)
    if isinstance(block, ImageBlock):
        return block.image
    if isinstance(block, FeedBlock):
        return Image.new("1", (width, block.dots), 255)
    if isinstance(block, CutBlock):
        strip = Image.new("1", (width, CUT_SPACE), 255)
        draw = ImageDraw.Draw(strip)
        for x in range(0, width, 12):  # dashed cut line
            draw.line((x, CUT_SPACE - 1, x + 5, CUT_SPACE - 1), fill=0)
        return strip
    raise TypeError(f"not a block: {block!r}")


def compose(blocks: Iterable[Block], width: int) -> Image.Image:
    """Stack the blocks top to bottom on a white strip ``width`` dots wide (mode "1")."""
    parts = [block_image(block, width) for block in blocks]
    page = Image.new("1", (width, TOP_MARGIN + sum(p.height for p in parts)), 255)
    y = TOP_MARGIN
    for part in parts:
        page.paste(part, (0, y))
        y += part.height
    return page
