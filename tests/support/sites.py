"""A centre and its site for the sync tests (README "Sites that work offline").

The centre hosts the default branch and a site's branch (``SITE``, the same services and
counters); in-process helpers build a site app from what the centre sends down."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SITE = "souk-sebt"


def centre_config(path: Path) -> Path:
    """config/branches.toml plus the site's branch."""
    base = (ROOT / "config" / "branches.toml").read_text(encoding="utf-8")
    body = base.split("[[branch]]", 1)[1]
    site = body.replace('code = "casa-hay-hassani"', f'code = "{SITE}"', 1) \
        .replace('fr = "Agence Hay Hassani"', 'fr = "Agence mobile, souk du samedi"', 1)
    path.write_text(base + "\n[[branch]]" + site, encoding="utf-8")
    return path


def valid_insured(n: int) -> str:
    """A 9-digit insured number with its Luhn check digit (cnss_ma)."""
    from queue_server.dossiers import ids
    body = f"{10000000 + n:08d}"
    return body + ids.luhn_digit(body)
