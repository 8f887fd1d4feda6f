"""Receipt printing: layout (blocks), ESC/POS encoding, transports, status, spool.

    blocks = render_ticket(ticket, "80mm")           # list of blocks
    payload = encode(blocks, "80mm")                 # ESC/POS bytes
    send(config, payload, name="kiosk-1", job_id="...")   # or, all three steps:
    print_blocks(config, blocks, "80mm", name="kiosk-1", job_id="...")
"""

from .blocks import PAPER_58MM, PAPER_80MM, CutBlock, FeedBlock, ImageBlock, Paper, TextBlock, paper_for
from .documents import DepositPrint, TicketPrint
from .encode import encode, write_blocks
from .errors import (
    FontNotFoundError,
    PrinterConfigError,
    PrinterError,
    PrinterUnreachable,
    PrinterWriteError,
    PrintingError,
    TextShapingUnavailable,
)
from .layout import render_deposit, render_deposit_image, render_image, render_ticket, render_ticket_image
from .printing import print_blocks
from .spool import Spool, SpoolJob
from .status import PrinterStatus, query_status
from .transports import describe, open_device, opened, send

__all__ = [
    "PAPER_58MM", "PAPER_80MM", "Paper", "paper_for",
    "TextBlock", "ImageBlock", "FeedBlock", "CutBlock",
    "TicketPrint", "DepositPrint",
    "render_ticket", "render_deposit", "render_image", "render_ticket_image", "render_deposit_image",
    "encode", "write_blocks", "print_blocks",
    "send", "open_device", "opened", "describe",
    "query_status", "PrinterStatus",
    "Spool", "SpoolJob",
    "PrintingError", "PrinterError", "PrinterUnreachable", "PrinterWriteError", "PrinterConfigError",
    "FontNotFoundError", "TextShapingUnavailable",
]
