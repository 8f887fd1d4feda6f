"""Files that hold personal data are owner-only (issue 12): the SQLite database (insured
numbers, password hashes), receipts, the announcement audio, the printer agent's spool,
the ID-hash key. Directories 0700, files 0600, at creation; a file an older version left
readable by others is tightened when the server opens it. ``run.py`` also sets the
process's umask to 077, so what the server and its printer agent create later (receipt
files, audio) is owner-only too."""
from __future__ import annotations

import logging
import os
import re
import stat
from pathlib import Path

UMASK = 0o077


def private_dir(path: Path, tighten: bool = False) -> Path:
    """``path`` as a directory: made 0700 (with missing parents) if missing; an existing
    one is tightened to 0700 only when ``tighten`` (a directory that is Tabour's own)."""
    path = Path(path)
    if not path.exists():
        path.mkdir(parents=True, mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)  # mkdir's mode goes through the umask
    elif tighten and stat.S_IMODE(path.stat().st_mode) & 0o077:
        os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """``path`` exists and is 0600 (created empty if missing; never truncated). SQLite's
    -wal and -shm files beside it are tightened too when present."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
    except FileExistsError:
        pass
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if stat.S_IMODE(p.stat().st_mode) & 0o077:
                os.chmod(p, 0o600)
        except FileNotFoundError:
            pass
    return path


# --- logs: no tracking number, no insured number ---------------------------------------------
#
# An access log (nginx's: deploy/nginx redacts them itself; werkzeug's or gevent's when
# one is turned on) writes request paths, and a dossier's tracking number in a path
# opens its status page; the back office searches ?insured=<number>. Every record that
# reaches run.py's log handlers goes through ``RedactFilter``.

_TRACKING_PATH = re.compile(
    r"(/d/|/api/v1/public/dossiers/|/api/v1/dossiers/(?!(?:check|counts)\b))[^/?#\s\"']+")
_INSURED_QUERY = re.compile(r"([?&]insured=)[^&#\s\"']*", re.IGNORECASE)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    text = _TRACKING_PATH.sub(lambda m: m.group(1) + REDACTED, text)
    return _INSURED_QUERY.sub(lambda m: m.group(1) + REDACTED, text)


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot format: leave it to the handler
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def redact_logs(logger: logging.Logger | None = None) -> None:
    """Put ``RedactFilter`` on every handler of ``logger`` (the root logger): records of
    every library's loggers pass through them."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactFilter) for f in handler.filters):
            handler.addFilter(RedactFilter())
