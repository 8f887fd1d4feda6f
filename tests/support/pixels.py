"""Small pixel helpers for receipt tests (1-bit images: 0 prints, 255 is paper)."""

from __future__ import annotations

from collections import deque

from PIL import Image


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    """Pixel-exact equality of two images as 1-bit (robust to how Pillow stores mode "1")."""
    return a.size == b.size and a.convert("1").tobytes() == b.convert("1").tobytes()


def ink_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the printed pixels, or None for blank paper."""
    return image.convert("L").point(lambda v: 255 - v).getbbox()


def ink_columns(image: Image.Image) -> list[int]:
    grey = image.convert("L")
    w, h = grey.size
    px = grey.load()
    return [x for x in range(w) if any(px[x, y] < 128 for y in range(h))]


def components(image: Image.Image) -> int:
    """Number of 8-connected blobs of ink (a joined Arabic word without dots is one)."""
    grey = image.convert("L")
    w, h = grey.size
    px = grey.load()
    seen: set[tuple[int, int]] = set()
    count = 0
    for y in range(h):
        for x in range(w):
            if px[x, y] >= 128 or (x, y) in seen:
                continue
            count += 1
            queue = deque([(x, y)])
            seen.add((x, y))
            while queue:
                cx, cy = queue.popleft()
                for dx in (-1, 0, 1):
                    for dy in (-1, 0, 1):
                        nx, ny = cx + dx, cy + dy
                        if 0 <= nx < w and 0 <= ny < h and (nx, ny) not in seen and px[nx, ny] < 128:
                            seen.add((nx, ny))
                            queue.append((nx, ny))
    return count


def ink_segments(image: Image.Image, min_gap: int = 5) -> list[tuple[int, int]]:
    """Horizontal runs of ink separated by at least ``min_gap`` blank columns (words on a line)."""
    cols = ink_columns(image)
    segments: list[tuple[int, int]] = []
    for x in cols:
        if segments and x - segments[-1][1] < min_gap:
            segments[-1] = (segments[-1][0], x + 1)
        else:
            segments.append((x, x + 1))
    return segments


def nearly_same(a: Image.Image, b: Image.Image, tolerance: float = 0.08) -> bool:
    """Equal up to anti-aliasing: under ``tolerance`` of the ink differs, allowing a 1-dot shift."""
    ink = sum(1 for v in a.convert("L").tobytes() if v < 128) or 1
    best = None
    for dx in (-1, 0, 1):
        shifted = Image.new("L", b.size, 255)
        shifted.paste(b.convert("L"), (dx, 0))
        diff = sum(1 for p, q in zip(a.convert("L").tobytes(), shifted.tobytes()) if (p < 128) != (q < 128))
        best = diff if best is None else min(best, diff)
    return a.size == b.size and best / ink < tolerance
