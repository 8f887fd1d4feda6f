"""What a receipt is made of before it becomes printer bytes.

A layout is a list of blocks, printed top to bottom:

- ``TextBlock``: one line printed with the printer's own font (native text). Its
  text is encodable in the paper's code page; sizes are the printer's character
  multipliers (font A cells are 12 x 24 dots).
- ``ImageBlock``: a raster strip exactly as wide as the paper (Arabic and any
  text the code page cannot print, rules, the QR code, the logo). Mode "1",
  black (0) prints. The encoder trims blank margins and keeps the position.
- ``FeedBlock``: blank paper, in dots.
- ``CutBlock``: feed to the cutter and cut.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

ALIGNS = ("left", "center", "right")


@dataclass(frozen=True)
class Paper:
    """A roll width in printer dots (203 dpi heads: 8 dots per mm)."""

    name: str
    width_dots: int
    max_code_multiplier: int = 6
    codepage: str = "CP850"  # one fixed code page for every native line (Latin-1 coverage)
    native_text: bool = True  # False: everything as raster, for printers with odd code pages
    trim_raster: bool = True  # False: full-width strips, for a printer that ignores ESC a on images

    def __post_init__(self) -> None:
        if self.width_dots % 8:
            raise ValueError(f"paper width must be a multiple of 8 dots, got {self.width_dots}")


PAPER_58MM = Paper("58mm", 384)
PAPER_80MM = Paper("80mm", 576)
PAPERS = {"58mm": PAPER_58MM, "80mm": PAPER_80MM, "58": PAPER_58MM, "80": PAPER_80MM}


def paper_for(spec: "Paper | str | int") -> Paper:
    """``Paper`` from a Paper, "58mm"/"80mm", 58/80, or a width in dots (384/576)."""
    if isinstance(spec, Paper):
        return spec
    if isinstance(spec, int) and spec in (384, 576):
        return PAPER_58MM if spec == 384 else PAPER_80MM
    try:
        return PAPERS[str(spec)]
    except KeyError:
        raise ValueError(f"unknown paper {spec!r}: use '58mm' or '80mm'") from None


@dataclass(frozen=True)
class TextBlock:
    text: str
    align: str = "center"
    bold: bool = False
    width_mult: int = 1
    height_mult: int = 1

    def __post_init__(self) -> None:
        if self.align not in ALIGNS:
            raise ValueError(f"align must be one of {ALIGNS}")
        if not (1 <= self.width_mult <= 8 and 1 <= self.height_mult <= 8):
            raise ValueError("character multipliers are 1..8")


@dataclass(frozen=True, eq=False)
class ImageBlock:
    image: Image.Image
    kind: str = "text"  # "text", "qr", "logo", "rule": what it shows, for tests and byte accounting
    source_text: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.image.mode != "1":
            raise ValueError("raster blocks are 1-bit images (mode '1')")


@dataclass(frozen=True)
class FeedBlock:
    dots: int

    def __post_init__(self) -> None:
        if not 0 < self.dots <= 255:
            raise ValueError("a feed is 1..255 dots")


@dataclass(frozen=True)
class CutBlock:
    pass


Block = TextBlock | ImageBlock | FeedBlock | CutBlock
