"""Retention periods per kind of personal data (config/retention.toml), read without
Flask. ``run.py purge`` hands them to ``commands.purge_personal_data``."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Retention:
    dossier_identity_days: int = 1825
    staff_notes_days: int = 365
    receipts_days: int = 30

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class RetentionError(ValueError):
    pass


def parse(data: dict) -> Retention:
    raw = data.get("retention", {})
    known = {f.name for f in fields(Retention)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise RetentionError(f"unknown retention setting(s) {unknown}: use {sorted(known)}")
    values = {}
    for name, value in raw.items():
        if type(value) is not int or not 1 <= value <= 36_500:
            raise RetentionError(f"{name} must be a whole number of days from 1 to 36500, "
                                 f"not {value!r}")
        values[name] = value
    return Retention(**values)


def load(path: Path | None = None) -> Retention:
    path = Path(path or os.environ.get("TABOUR_RETENTION") or ROOT / "config" / "retention.toml")
    with open(path, "rb") as f:
        return parse(tomllib.load(f))
