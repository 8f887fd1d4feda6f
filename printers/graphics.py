"""Raster strips that are not text: the QR code, the logo, a horizontal rule.

Each is a 1-bit image exactly as wide as the paper, content placed where it prints.
"""

from __future__ import annotations

import logging
from pathlib import Path

import qrcode
from PIL import Image

log = logging.getLogger(__name__)


def _centered(content: Image.Image, width: int) -> Image.Image:
    strip = Image.new("1", (width, content.height), 255)
    strip.paste(content, ((width - content.width) // 2, 0))
    return strip


def qr_image(data: str, width: int, target_dots: int) -> Image.Image:
    """A QR code (error correction M) about ``target_dots`` wide, whole modules, centered."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    n = len(matrix)
    module = max(2, min(target_dots, width) // n)
    small = Image.new("1", (n, n), 255)
    small.putdata([0 if dark else 255 for row in matrix for dark in row])
    return _centered(small.resize((n * module, n * module), Image.Resampling.NEAREST), width)


def logo_image(path: str | Path, width: int, max_height: int) -> Image.Image | None:
    """The logo scaled to fit and dithered to 1 bit, or None (logged) if it cannot be read."""
    try:
        with Image.open(path) as source:
            source.load()
            logo = source.convert("RGBA")
    except (OSError, ValueError) as exc:
        log.warning("logo %s not printed: %s", path, exc)
        return None
    flat = Image.new("RGBA", logo.size, (255, 255, 255, 255))
    flat.alpha_composite(logo)
    grey = flat.convert("L")
    scale = min((width * 0.6) / grey.width, max_height / grey.height, 1.0)
    if scale < 1.0:
        grey = grey.resize((max(1, round(grey.width * scale)), max(1, round(grey.height * scale))),
                           Image.Resampling.LANCZOS)
    return _centered(grey.convert("1"), width)  # Floyd-Steinberg dithering


def rule_image(width: int, thickness: int = 2, margin: int = 8) -> Image.Image:
    strip = Image.new("1", (width, thickness), 255)
    strip.paste(0, (margin, 0, width - margin, thickness))
    return strip
