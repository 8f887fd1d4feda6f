"""The plain data a receipt is printed from. No database objects, no formatting."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TicketPrint:
    """A queue ticket. ``languages``: the visitor's language first, then the branch's second."""

    branch_name: dict[str, str]
    service_name: dict[str, str]
    code: str  # "A-042"
    people_ahead: int
    estimated_wait_minutes: int | None  # None: no counter could call it now (not printed)
    issued_at_local: str  # "2026-11-23 09:41", already in the branch's time zone
    qr_url: str | None
    languages: list[str]
    header_lines: list[str] = field(default_factory=list)
    footer_lines: list[str] = field(default_factory=list)
    logo_path: str | None = None
    priority: str = "normal"  # normal | elderly | disabled | pregnant
    copy: bool = False  # a reprint at reception: marked as a copy

    def __post_init__(self) -> None:
        if not self.languages:
            raise ValueError("a ticket needs at least one language")


@dataclass(frozen=True)
class DepositPrint:
    """A dossier deposit receipt."""

    branch_name: dict[str, str]
    dossier_type: dict[str, str]
    tracking_number: str
    deposited_at_local: str
    documents: list[dict[str, str]]  # each declared document, lang -> name
    box: str  # "Box B"
    next_steps: dict[str, str]
    qr_url: str | None
    languages: list[str]
    header_lines: list[str] = field(default_factory=list)
    footer_lines: list[str] = field(default_factory=list)
    logo_path: str | None = None
    copy: bool = False  # a reprint at reception: marked as a copy
    # the documents the visitor was told were missing (deposited anyway), lang -> name:
    # the receipt says "incomplete" and lists what to bring
    missing: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.languages:
            raise ValueError("a receipt needs at least one language")
