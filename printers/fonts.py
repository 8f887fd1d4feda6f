"""Find TrueType fonts by file name and load them with the right Pillow layout engine.

DejaVu Sans covers Latin and Arabic, so one font renders mixed lines; Tifinagh
(Tamazight) is drawn with Noto Sans Tifinagh (``TIFINAGH``). Fonts are
looked up by path (no fontconfig): the directories below, then ``TABOUR_FONT_DIRS``
(colon separated) first if set.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from PIL import ImageFont, features

from .errors import FontNotFoundError

REGULAR = "DejaVuSans.ttf"
BOLD = "DejaVuSans-Bold.ttf"
MONO = "DejaVuSansMono.ttf"  # previews of the printer's own (native) font
MONO_BOLD = "DejaVuSansMono-Bold.ttf"
# Tamazight in Tifinagh (zgh): Noto Sans Tifinagh (Debian fonts-noto-core); it has no
# bold face (bold is drawn with a one-dot stroke) and no digits (they come from DejaVu)
TIFINAGH = "NotoSansTifinagh-Regular.ttf"

FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/truetype/noto",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/noto",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
    "/Library/Fonts",
    "C:/Windows/Fonts",
)


def font_dirs() -> list[str]:
    extra = [d for d in os.environ.get("TABOUR_FONT_DIRS", "").split(os.pathsep) if d]
    return extra + list(FONT_DIRS)


@functools.lru_cache(maxsize=None)
def find_font(file_name: str) -> Path:
    """The path of ``file_name`` in the known font directories, or a clear error."""
    for directory in font_dirs():
        path = Path(directory) / file_name
        if path.is_file():
            return path
    raise FontNotFoundError(
        f"Font {file_name} was not found in {', '.join(font_dirs())}. "
        "Install it (Debian: apt-get install fonts-dejavu-core fonts-noto-core) or set "
        "TABOUR_FONT_DIRS "
        "to the directory that holds it."
    )


@functools.lru_cache(maxsize=1)
def raqm_available() -> bool:
    """True when Pillow can shape text with libraqm (needs the system libfribidi)."""
    return bool(features.check("raqm"))


@functools.lru_cache(maxsize=64)
def load_font(file_name: str, size: int, raqm: bool | None = None) -> ImageFont.FreeTypeFont:
    """A cached FreeType font; ``raqm`` None means "RAQM when available"."""
    use_raqm = raqm_available() if raqm is None else raqm
    engine = ImageFont.Layout.RAQM if use_raqm else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(find_font(file_name)), size, layout_engine=engine)
