"""Sample receipts (Casablanca branch data) for previews, the bench and tests.

``python -m printers.samples [directory]`` writes PNG previews and raw .bin files
(default ``var/receipts-preview``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from .documents import DepositPrint, TicketPrint

BRANCH = {"ar": "وكالة الحي الحسني", "fr": "Agence Hay Hassani", "en": "Hay Hassani branch"}
SERVICE = {"ar": "التعويضات العائلية", "fr": "Allocations familiales", "en": "Family allowances"}


def ticket_ar_fr() -> TicketPrint:
    return TicketPrint(
        branch_name=BRANCH,
        service_name=SERVICE,
        code="A-042",
        people_ahead=7,
        estimated_wait_minutes=15,
        issued_at_local="2026-11-23 09:41",
        qr_url="http://tabour.local/t/casa-hay-hassani/A-042?d=2026-11-23",
        languages=["ar", "fr"],
        header_lines=["CNSS · الصندوق الوطني للضمان الاجتماعي"],
        footer_lines=["Merci de votre visite"],
    )


def ticket_en() -> TicketPrint:
    return TicketPrint(
        branch_name=BRANCH,
        service_name=SERVICE,
        code="A-042",
        people_ahead=7,
        estimated_wait_minutes=15,
        issued_at_local="2026-11-23 09:41",
        qr_url="http://tabour.local/t/casa-hay-hassani/A-042?d=2026-11-23",
        languages=["en"],
        footer_lines=["Thank you for your visit"],
    )


def deposit_ar() -> DepositPrint:
    return DepositPrint(
        branch_name=BRANCH,
        dossier_type={"ar": "طلب التعويضات العائلية", "fr": "Demande d'allocations familiales"},
        tracking_number="D-2026-004217",
        deposited_at_local="2026-11-23 10:05",
        documents=[
            {"ar": "استمارة الطلب موقعة", "fr": "Formulaire de demande signé"},
            {"ar": "نسخة من البطاقة الوطنية للتعريف", "fr": "Copie de la CNIE"},
            {"ar": "شهادة الحياة الجماعية للأطفال", "fr": "Fiche d'état civil des enfants"},
        ],
        box="Box B",
        next_steps={
            "ar": "سيتم دراسة ملفك خلال 15 يوم عمل. تابع حالته بالرمز أدناه أو عبر الكشك بإدخال رقم التتبع.",
            "fr": "Votre dossier sera étudié sous 15 jours ouvrés. Suivez-le avec le QR code ou à la borne.",
        },
        qr_url="http://tabour.local/d/D-2026-004217",
        languages=["ar"],
    )


def write_previews(directory: str | Path = "var/receipts-preview") -> list[Path]:
    """Write the three sample receipts as PNG (and raw ESC/POS .bin); returns the PNG paths."""
    from .encode import encode
    from .layout import render_deposit, render_image, render_ticket

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    jobs = {
        "ticket-ar-fr-80mm": (render_ticket(ticket_ar_fr(), "80mm"), "80mm"),
        "ticket-en-58mm": (render_ticket(ticket_en(), "58mm"), "58mm"),
        "deposit-ar-80mm": (render_deposit(deposit_ar(), "80mm"), "80mm"),
    }
    written = []
    for name, (blocks, paper) in jobs.items():
        render_image(blocks, paper).save(out / f"{name}.png")
        (out / f"{name}.bin").write_bytes(encode(blocks))
        written.append(out / f"{name}.png")
    return written


if __name__ == "__main__":
    for path in write_previews(*sys.argv[1:2]):
        print(path)
