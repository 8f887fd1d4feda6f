"""Writes the PNG previews people look at (var/receipts-preview/) and checks them."""

from pathlib import Path

from PIL import Image

from printers.samples import write_previews

ROOT = Path(__file__).resolve().parents[3]


def test_previews_are_written_for_the_three_samples():
    paths = write_previews(ROOT / "var" / "receipts-preview")
    names = {p.name: p for p in paths}
    assert set(names) == {"ticket-ar-fr-80mm.png", "ticket-en-58mm.png", "deposit-ar-80mm.png"}
    widths = {"ticket-ar-fr-80mm.png": 576, "ticket-en-58mm.png": 384, "deposit-ar-80mm.png": 576}
    for name, path in names.items():
        with Image.open(path) as image:
            assert image.width == widths[name] and image.height > 500
        assert path.with_suffix(".bin").stat().st_size > 1000


def test_print_blocks_to_the_file_printer_writes_what_a_printer_would_get(tmp_path):
    from printers import encode, print_blocks, render_ticket
    from printers.samples import ticket_en

    blocks = render_ticket(ticket_en(), "58mm")
    config = {"type": "file", "directory": str(tmp_path)}
    size = print_blocks(config, blocks, "58mm", name="files", job_id="A-042")
    assert (tmp_path / "A-042.bin").read_bytes() == encode(blocks, "58mm")
    assert size == len(encode(blocks, "58mm"))
    with Image.open(tmp_path / "A-042.png") as png:
        assert png.width == 384
