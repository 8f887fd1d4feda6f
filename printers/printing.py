"""Render, encode and send in one call: what the printer agent does with a job."""

from __future__ import annotations

from .blocks import Block, Paper, paper_for
from .encode import encode
from .preview import compose
from .transports import send


def print_blocks(config: dict, blocks: list[Block], paper: Paper | str | int, *, name: str, job_id: str) -> int:
    """Encode ``blocks`` and send them to the printer of ``config``; returns the byte count.

    A file printer also gets the PNG preview. Raises ``PrinterError`` subclasses.
    """
    paper = paper_for(paper)
    payload = encode(blocks, paper)
    preview = compose(blocks, paper.width_dots) if config.get("type") == "file" else None
    send(config, payload, name=name, job_id=job_id, preview=preview)
    return len(payload)
