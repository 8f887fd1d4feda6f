"""A network of branches in two regions for the supervisors' tests: the shipped
configuration (config/branches.toml: casa-hay-hassani in casa-settat) plus copies of its
branch under other codes, regions and names, as one configuration file."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASA = "casa-hay-hassani"
RABAT = "rabat-agdal"

# code -> (region or None, French name, Arabic name)
EXTRA = {RABAT: ("rabat-sale-kenitra", "Agence Agdal", "وكالة أكدال")}


def network_config(folder: Path, extra: dict | None = None, source: Path | None = None) -> Path:
    """Write the configuration (the shipped one, or ``source``, + ``extra`` branches) and
    return its path."""
    text = Path(source or ROOT / "config" / "branches.toml").read_text(encoding="utf-8")
    head, branch = text.split("[[branch]]", 1)
    out = [head, "[[branch]]", branch]
    for code, (region, name, ar) in (extra or EXTRA).items():
        copy = branch.replace(f'code = "{CASA}"', f'code = "{code}"')
        copy = copy.replace('region = "casa-settat"\n',
                            f'region = "{region}"\n' if region else "")
        copy = copy.replace('fr = "Agence Hay Hassani"', f'fr = "{name}"')
        copy = copy.replace('en = "Hay Hassani branch"', f'en = "{name} (en)"')
        copy = copy.replace('ar = "وكالة الحي الحسني"', f'ar = "{ar}"')
        out += ["\n[[branch]]", copy]
    path = Path(folder) / "branches.toml"
    path.write_text("".join(out), encoding="utf-8")
    return path
