"""Every catalogue (French and Swahili, the project's and each app's) is complete, and its compiled .mo matches the
.po."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(
    path.parent
    for pattern in ("locale", "*/locale", "*/*/locale")
    for path in ROOT.glob(f"{pattern}/*/LC_MESSAGES/django.po")
    if not path.relative_to(ROOT).parts[0].startswith(".")
)


def _name(folder: Path) -> str:
    """catalogue/fr, marketplace/market/sw, project/fr."""
    app = folder.relative_to(ROOT).parents[2]
    return f"{'project' if app == Path('.') else app}/{folder.parent.name}"


def test_the_catalogues_are_found():
    languages = {folder.parent.name for folder in CATALOGUES}
    assert languages == {"fr", "sw"} and len(CATALOGUES) >= 16, CATALOGUES


def _entries(text: str) -> list[str]:
    return [block for block in text.split("\n\n") if re.search(r"^msgid ", block, re.M) and "#~" not in block]


@pytest.mark.parametrize("folder", CATALOGUES, ids=_name)
def test_every_message_is_translated(folder):
    text = (folder / "django.po").read_text(encoding="utf-8")
    untranslated = []
    for block in _entries(text)[1:]:  # the first entry is the header
        if "#, fuzzy" in block:
            untranslated.append(block)
            continue
        for match in re.finditer(r'^msgstr(?:\[\d+\])? ((?:".*"\n?)+)', block + "\n", re.M):
            if not "".join(re.findall(r'"(.*)"', match.group(1))):
                untranslated.append(block)
    where = folder.relative_to(ROOT) / "django.po"
    assert not untranslated, f"Translate these in {where}:\n\n" + "\n\n".join(untranslated)


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is not installed")
@pytest.mark.parametrize("folder", CATALOGUES, ids=_name)
def test_the_compiled_catalogue_is_up_to_date(tmp_path, folder):
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(folder / "django.po")], check=True)
    assert compiled.read_bytes() == (folder / "django.mo").read_bytes(), (
        "Run `make messages` (compilemessages) and commit django.mo."
    )


@pytest.mark.parametrize(
    ("language", "farm_input", "transformation_input"),
    [("fr", "Intrant", "Entrée"), ("sw", "Pembejeo", "Kinachoingia")],
)
def test_the_project_catalogue_does_not_shadow_an_apps_word(language, farm_input, transformation_input):
    """The project's catalogue wins over the apps': its "Input" of a transformation event carries a context, so the
    order and payout pages keep the farm inputs' word."""
    from django.utils import translation

    from traceability.models import LotRole

    with translation.override(language):
        assert translation.gettext("Input") == farm_input
        assert str(LotRole.INPUT.label) == transformation_input


@pytest.mark.parametrize(
    ("model_path", "status", "french"),
    [
        ("orders.models.Order", "dispatched", "Expédiée"),  # une commande
        ("catalogue.models.Lot", "dispatched", "Expédié"),  # un lot
        ("orders.group_models.OrderingWindow", "open", "Ouverte"),  # une fenêtre de commande
        ("catalogue.models.Lot", "open", "Ouvert"),
        ("catalogue.models.Listing", "withdrawn", "Retirée"),  # une offre de vente
        ("payments.models.ChargeDispute", "open", "Ouverte"),  # une rétrofacturation
        ("marketplace.channels.models.Message", "success", "Remis"),  # un message (the gateway's "Delivered")
        ("marketplace.decisions.models.Decision", "closed", "Clôturée"),  # une décision
    ],
)
def test_each_models_status_agrees_with_its_noun_in_french(model_path, status, french):
    """The same English status ("Dispatched", "Open") is one message in Django's merged catalogue: each model's status
    choices carry their own context, so an order is "Expédiée" and a lot "Expédié"."""
    from django.utils import translation
    from django.utils.module_loading import import_string

    model = import_string(model_path)
    with translation.override("fr"):
        assert model(status=status).get_status_display() == french
