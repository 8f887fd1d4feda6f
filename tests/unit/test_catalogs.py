"""The catalogs: every string the code and the templates use is translated in Arabic, French
and English (a visitor never meets the English source inside an Arabic screen), with the
same placeholders as its source; the Tamazight catalog is marked as awaiting a native
speaker's review, and what it lacks falls back to Arabic."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "queue_server" / "translations"
PLACEHOLDER = re.compile(r"\{\w+\}|%\(\w+\)s")


def catalog(lang: str):
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=lang)


@pytest.fixture(scope="module")
def used(tmp_path_factory) -> set:
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    babel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(babel), "extract", "-F", "babel.cfg", "-k", "N_", "-o", str(pot),
                    "--no-location", "--ignore-dirs=.venv node_modules var tests", "."],
                   cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as f:
        return {m.id for m in read_po(f) if m.id}


@pytest.mark.parametrize("lang", ["ar", "fr", "en"])
def test_every_string_used_is_translated_with_its_placeholders(lang, used):
    cat = catalog(lang)
    missing = sorted(str(i) for i in used if i not in cat)
    assert not missing, f"{lang}: not in the catalog: {missing[:10]}"
    for m in cat:
        if not m.id:
            continue
        text = m.string if isinstance(m.string, str) else m.string[0]
        source = m.id if isinstance(m.id, str) else m.id[0]
        assert text and not m.fuzzy, f"{lang}: {source!r} has no translation"
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(source)), \
            f"{lang}: placeholders differ in {source!r} -> {text!r}"


def test_tamazight_is_tifinagh_awaits_review_and_falls_back_to_arabic():
    path = TRANSLATIONS / "zgh" / "LC_MESSAGES" / "messages.po"
    assert "native speaker's review" in path.read_text(encoding="utf-8")
    cat = catalog("zgh")
    done = [m for m in cat if m.id and m.string]
    assert len(done) >= 30
    for m in done:  # Tifinagh, with the source's placeholders (each plural form)
        forms = [m.string] if isinstance(m.string, str) else list(m.string)
        source = m.id if isinstance(m.id, str) else m.id[0]
        for form in forms:
            assert re.search("[\u2d30-\u2d7f]", form), m.id
            assert sorted(PLACEHOLDER.findall(form)) == sorted(PLACEHOLDER.findall(source)), m.id
    from queue_server.i18n import FALLBACK
    assert FALLBACK["zgh"] == "ar"
