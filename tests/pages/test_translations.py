"""The French catalogue is complete and its compiled .mo matches the .po."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "fr" / "LC_MESSAGES"


def _entries(text: str) -> list[str]:
    return [block for block in text.split("\n\n") if re.search(r"^msgid ", block, re.M) and "#~" not in block]


def test_every_message_has_a_french_translation():
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    untranslated = []
    for block in _entries(text)[1:]:  # the first entry is the header
        if "#, fuzzy" in block:
            untranslated.append(block)
            continue
        for match in re.finditer(r'^msgstr(?:\[\d+\])? ((?:".*"\n?)+)', block + "\n", re.M):
            if not "".join(re.findall(r'"(.*)"', match.group(1))):
                untranslated.append(block)
    assert not untranslated, "Translate these in locale/fr/LC_MESSAGES/django.po:\n\n" + "\n\n".join(untranslated)


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is not installed")
def test_the_compiled_catalogue_is_up_to_date(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(LOCALE / "django.po")], check=True)
    assert compiled.read_bytes() == (LOCALE / "django.mo").read_bytes(), (
        "Run `make messages` (compilemessages) and commit django.mo."
    )
