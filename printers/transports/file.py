"""A printer that writes files: <job-id>.bin (the raw ESC/POS bytes) and <job-id>.png (a preview).

The default of a branch PC with no printer, so a newcomer sees real tickets.
"""

from __future__ import annotations

import re
from pathlib import Path

from escpos.exceptions import DeviceNotFoundError
from escpos.printer import File
from PIL import Image

from ..errors import PrinterConfigError, PrinterUnreachable, PrinterWriteError
from ._config import required

_SAFE_JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def where(config: dict) -> str:
    return str(config.get("directory"))


def _path(config: dict, job_id: str | None, suffix: str, name: str) -> Path:
    if not job_id or not _SAFE_JOB_ID.match(job_id) or ".." in job_id:
        raise PrinterConfigError(f"Printer '{name}': job id {job_id!r} cannot be a file name")
    return Path(required(config, "directory", name)) / f"{job_id}{suffix}"


def open(config: dict, *, name: str, job_id: str | None = None) -> File:
    path = _path(config, job_id, ".bin", name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PrinterUnreachable(
            f"File printer '{name}' cannot create {path.parent} ({exc.strerror}): check the directory setting",
            printer=name, where=str(path.parent)) from exc
    device = File(devfile=str(path))
    try:
        device.open()
    except DeviceNotFoundError as exc:
        raise PrinterUnreachable(
            f"File printer '{name}' cannot write {path}: check the directory's permissions",
            printer=name, where=str(path.parent)) from exc
    return device


def write(device: File, payload: bytes, config: dict, *, name: str) -> None:
    try:
        device._raw(payload)
    except OSError as exc:
        raise PrinterWriteError(f"File printer '{name}' could not write {device.devfile} ({exc})",
                                printer=name, where=where(config)) from exc


def save_preview(config: dict, job_id: str, preview: Image.Image) -> Path:
    path = _path(config, job_id, ".png", "file")
    preview.save(path)
    return path
