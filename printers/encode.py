"""Blocks to ESC/POS bytes, through python-escpos's ``Dummy`` printer.

- Native lines: ``ESC a`` (align), ``ESC E`` (bold), ``GS !`` (size) only when they
  change, then the text in one fixed code page (``ESC t``).
- Raster strips: ``GS v 0`` (``impl="bitImageRaster"``). Blank margins are trimmed
  to whole bytes and the strip keeps its place with ``ESC a``, which printers apply
  to raster images too: a centred Arabic line costs its own width, not the paper's.
- Feeds: ``ESC J n``; the cut: ``GS V 66 0`` (feed to the cutter, then cut).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable

from escpos.capabilities import Profile
from escpos.constants import ESC
from escpos.printer import Dummy
from PIL import Image, ImageChops

from .blocks import Block, CutBlock, FeedBlock, ImageBlock, Paper, TextBlock, paper_for

FRAGMENT_HEIGHT = 960  # python-escpos default: taller strips are sent as several GS v 0
SMOOTH_FROM = 4  # character multiplier from which the printer smooths big text (GS b)


@functools.lru_cache(maxsize=8)
def _profile(width_dots: int):
    """The default profile with the paper width set (a private copy: profiles are shared)."""
    profile = Profile()
    profile.profile_data = copy.deepcopy(profile.profile_data)
    profile.profile_data["media"]["width"]["pixels"] = width_dots
    return profile


def trim(image: Image.Image) -> tuple[Image.Image, str] | None:
    """The narrowest strip (whole bytes) that prints ``image`` at the same place, and its alignment.

    Left: keep [0, right edge); right: keep [left edge, width); center: a strip
    with equal margins (multiple of 4 dots each side) that the printer centres
    back exactly. None when the image prints nothing.
    """
    width = image.width
    ink = ImageChops.invert(image.convert("L")).getbbox()
    if ink is None:
        return None
    left, _, right, _ = ink
    choices = {
        "left": (0, min(width, -(-right // 8) * 8)),
        "right": (left // 8 * 8, width),
    }
    margin = min(left, width - right) // 4 * 4
    choices["center"] = (margin, width - margin)
    align = min(choices, key=lambda name: choices[name][1] - choices[name][0])
    x0, x1 = choices[align]
    return image.crop((x0, 0, x1, image.height)), align


class _Writer:
    """Sends blocks to an escpos printer object, setting styles only when they change."""

    def __init__(self, printer, paper: Paper) -> None:
        self.p = printer
        self.paper = paper
        self.align: str | None = None
        self.bold: bool | None = None
        self.size: tuple[int, int] | None = None

    def _align(self, align: str) -> None:
        if align != self.align:
            self.p.set(align=align)
            self.align = align

    def text(self, block: TextBlock) -> None:
        self._align(block.align)
        if block.bold != self.bold:
            self.p.set(bold=block.bold)
            self.bold = block.bold
        size = (block.width_mult, block.height_mult)
        if size != self.size:
            self.p.set(custom_size=True, width=size[0], height=size[1],
                       smooth=max(size) >= SMOOTH_FROM)
            self.size = size
        self.p.textln(block.text)

    def image(self, block: ImageBlock) -> None:
        trimmed = trim(block.image)
        if trimmed is None:
            self.feed(block.image.height)
            return
        strip, align = trimmed if self.paper.trim_raster else (block.image, "left")
        self._align(align)
        self.p.image(strip, impl="bitImageRaster", fragment_height=FRAGMENT_HEIGHT)

    def feed(self, dots: int) -> None:
        while dots > 0:
            step = min(dots, 255)
            self.p._raw(ESC + b"J" + bytes((step,)))
            dots -= step

    def write(self, blocks: Iterable[Block]) -> None:
        self.p.hw("INIT")
        self.p.charcode(self.paper.codepage)
        for block in blocks:
            if isinstance(block, TextBlock):
                self.text(block)
            elif isinstance(block, ImageBlock):
                self.image(block)
            elif isinstance(block, FeedBlock):
                self.feed(block.dots)
            elif isinstance(block, CutBlock):
                self.p.cut(feed=False)
            else:
                raise TypeError(f"not a block: {block!r}")


def write_blocks(printer, blocks: Iterable[Block], paper: Paper | str | int = "80mm") -> None:
    """Write ``blocks`` to any python-escpos printer object (Dummy, Network, Serial...)."""
    _Writer(printer, paper_for(paper)).write(blocks)


def encode(blocks: Iterable[Block], paper: Paper | str | int = "80mm") -> bytes:
    """The ESC/POS bytes of a receipt, ready for ``device._raw``."""
    paper = paper_for(paper)
    dummy = Dummy(profile=_profile(paper.width_dots))
    write_blocks(dummy, blocks, paper)
    return dummy.output
