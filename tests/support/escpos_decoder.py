"""Parse ESC/POS bytes back into printers' blocks, so tests can compare what was sent with the layout.

Understands what a printer does with: text and LF, ESC @, ESC t (code page),
ESC a, ESC E, ESC !, GS ! (sizes), ESC J / ESC d (feeds), GS v 0 (raster, put
back at its place on the paper from the ESC a alignment), GS V (cut) and the
DLE EOT status queries. Commands that change nothing a test compares (GS b
smoothing, ESC M font, ESC - underline, ESC 2/3 line spacing...) are skipped and
listed. Anything else raises DecodeError: an unexpected byte is a test failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from escpos.capabilities import Profile
from PIL import Image

from printers.blocks import CutBlock, FeedBlock, ImageBlock, TextBlock

_INVERT = bytes(255 - b for b in range(256))
# command bytes after ESC / GS that take a fixed number of argument bytes and are skipped
_ESC_SKIP = {b"M": 1, b"-": 1, b"2": 0, b"3": 1, b"G": 1, b"{": 1, b"r": 1, b"c": 2, b"p": 3, b"=": 1, b"V": 1}
_GS_SKIP = {b"b": 1, b"B": 1, b"L": 2, b"W": 2, b"H": 1, b"f": 1, b"h": 1, b"w": 1}


class DecodeError(ValueError):
    pass


@dataclass
class Decoded:
    blocks: list = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # names of commands ignored, in order
    status_queries: list[int] = field(default_factory=list)  # n of each DLE EOT n
    codepages: list[str] = field(default_factory=list)

    @property
    def text_lines(self) -> list[str]:
        return [b.text for b in self.blocks if isinstance(b, TextBlock)]

    @property
    def images(self) -> list[ImageBlock]:
        return [b for b in self.blocks if isinstance(b, ImageBlock)]

    def text_block(self, text: str) -> TextBlock:
        for block in self.blocks:
            if isinstance(block, TextBlock) and block.text == text:
                return block
        raise AssertionError(f"{text!r} is not printed as native text; lines: {self.text_lines}")


class _State:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.align = "left"
        self.bold = False
        self.width = 1
        self.height = 1
        self.codec = "cp437"


def decode(data: bytes, paper_width: int) -> Decoded:
    """The blocks a printer with ``paper_width`` dots would print from ``data``."""
    out = Decoded()
    st = _State()
    codepages = Profile().codePages
    line = bytearray()
    line_style: tuple | None = None
    i = 0

    def need(count: int) -> bytes:
        if i + count > len(data):
            raise DecodeError(f"truncated command at byte {i}")
        return data[i:i + count]

    def style_change() -> None:
        if line:
            raise DecodeError(f"style changed inside a text line at byte {i}: {bytes(line)!r}")

    while i < len(data):
        b = data[i:i + 1]
        if b == b"\n":
            text = bytes(line).decode(st.codec)
            align, bold, w, h = line_style or (st.align, st.bold, st.width, st.height)
            out.blocks.append(TextBlock(text, align, bold, w, h))
            line.clear()
            line_style = None
            i += 1
        elif b == b"\r":
            i += 1
        elif b == b"\x1b":
            cmd = need(2)[1:2]
            i += 2
            if cmd == b"@":
                style_change()
                st.reset()
            elif cmd == b"t":
                n = need(1)[0]
                i += 1
                name = codepages.get(str(n))
                if not name or name == "Unknown":
                    raise DecodeError(f"unknown code page {n}")
                st.codec = name.lower().replace("_", "-")
                out.codepages.append(name)
            elif cmd == b"a":
                style_change()
                st.align = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}[need(1)[0]]
                i += 1
            elif cmd == b"E":
                style_change()
                st.bold = bool(need(1)[0] & 1)
                i += 1
            elif cmd == b"!":
                style_change()
                n = need(1)[0]
                i += 1
                st.bold = bool(n & 0x08)
                st.height = 2 if n & 0x10 else 1
                st.width = 2 if n & 0x20 else 1
            elif cmd == b"J":
                out.blocks.append(FeedBlock(need(1)[0]))
                i += 1
            elif cmd == b"d":
                n = need(1)[0]
                i += 1
                out.blocks.extend(TextBlock("", st.align) for _ in range(n))
            elif cmd in _ESC_SKIP:
                i += _ESC_SKIP[cmd]
                out.skipped.append(f"ESC {cmd.decode()}")
            else:
                raise DecodeError(f"unknown command ESC {cmd!r} at byte {i - 2}")
        elif b == b"\x1d":
            cmd = need(2)[1:2]
            i += 2
            if cmd == b"!":
                style_change()
                n = need(1)[0]
                i += 1
                st.width, st.height = (n >> 4) + 1, (n & 0x0F) + 1
            elif cmd == b"v":
                header = need(6)
                if header[0:1] not in (b"0",) or header[1] not in (0, 48):
                    raise DecodeError(f"only GS v 0 normal density is understood, got {header[:2]!r}")
                width_bytes = header[2] + 256 * header[3]
                height = header[4] + 256 * header[5]
                i += 6
                raster = need(width_bytes * height)
                i += width_bytes * height
                strip = Image.frombytes("1", (width_bytes * 8, height), raster.translate(_INVERT))
                page = Image.new("1", (paper_width, height), 255)
                x = {"left": 0, "center": (paper_width - strip.width) // 2, "right": paper_width - strip.width}
                page.paste(strip, (x[st.align], 0))
                out.blocks.append(ImageBlock(page, "decoded"))
            elif cmd == b"V":
                m = need(1)[0]
                i += 1 + (1 if m in (65, 66, 97, 98, 103, 104) else 0)
                out.blocks.append(CutBlock())
            elif cmd in _GS_SKIP:
                i += _GS_SKIP[cmd]
                out.skipped.append(f"GS {cmd.decode()}")
            else:
                raise DecodeError(f"unknown command GS {cmd!r} at byte {i - 2}")
        elif b == b"\x10":
            if need(2)[1:2] != b"\x04":
                raise DecodeError(f"unknown DLE command at byte {i}")
            out.status_queries.append(need(3)[2])
            i += 3
        elif data[i] < 0x20:
            raise DecodeError(f"unexpected control byte {data[i]:#04x} at byte {i}")
        else:
            if not line:
                line_style = (st.align, st.bold, st.width, st.height)
            line.append(data[i])
            i += 1
    if line:
        raise DecodeError(f"text not ended by a line feed: {bytes(line)!r}")
    return out
