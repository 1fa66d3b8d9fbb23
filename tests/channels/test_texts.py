"""SMS length: GSM-7 and UCS-2 segments, every template's segments stated, the statement within 2 segments in every
language; USSD screens within 182 characters are checked in test_ussd.py."""

from types import SimpleNamespace

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.channels import entries
from marketplace.channels.menu import Caller, fold, words
from marketplace.core.sms_segments import GSM7, UCS2, sms_segments
from payments.payouts.statements import sms_text
from tests.channels.conftest import PIN

LANGUAGES = ["en", "fr", "sw"]


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", GSM7, 0, 1),
        ("a" * 160, GSM7, 160, 1),
        ("a" * 161, GSM7, 161, 2),
        ("a" * 306, GSM7, 306, 2),
        ("a" * 307, GSM7, 307, 3),
        ("é" * 160, GSM7, 160, 1),  # é is in the GSM alphabet
        ("€" * 80, GSM7, 160, 1),  # extension characters take two septets
        ("€" * 81, GSM7, 162, 2),
        ("[]{}", GSM7, 8, 1),
        ("ç" * 70, UCS2, 70, 1),  # ç (small) is not; only Ç is
        ("a" * 69 + "ê", UCS2, 70, 1),
        ("a" * 70 + "â", UCS2, 71, 2),
        ("ô" * 134, UCS2, 134, 2),
        ("ô" * 135, UCS2, 135, 3),
        ("😀" * 35, UCS2, 70, 1),  # an emoji is two UTF-16 units
        ("’", UCS2, 1, 1),  # a curly apostrophe
    ],
)
def test_segments(text, encoding, units, segments):
    result = sms_segments(text)
    assert (result.encoding, result.units, result.count) == (encoding, units, segments)


def test_one_french_letter_turns_the_whole_message_into_ucs2():
    text = "Votre livraison de 250 kg est enregistree. Merci et a bientot au point de collecte de la cooperative!"
    assert sms_segments(text).count == 1
    assert sms_segments(text.replace("a bientot", "à bientôt")).encoding == UCS2
    assert sms_segments(text.replace("a bientot", "à bientôt")).count == 2


def test_keywords_fold_case_and_accents():
    assert fold("Crédit relevé") == "CREDIT RELEVE"
    assert words("  solde,1234 ") == ["SOLDE", "1234"]


# --- Every template, its segments stated -----------------------------------------------------------------------


def caller_with(language):
    organisation = SimpleNamespace(name="Coopérative Agricole de la Nawa", pk=1)
    farmer = SimpleNamespace(organisation=organisation, organisation_id=1, pk=1)
    return Caller(farmer=farmer, language=language, phone="+2250700000001")


@pytest.fixture
def fake_reads(monkeypatch):
    """The statement's figures at their largest plausible size (the selectors are tested through the callbacks)."""
    from marketplace.channels import selectors
    from marketplace.core.money import Money

    batch = SimpleNamespace(currency="XOF", executed_at=None, proposed_at=None)
    line = SimpleNamespace(
        reference="PB12345-9876543", batch=batch, gross_amount=123_456_789, levy_amount=2_469_135,
        credit_amount=10_000_000, net_amount=110_987_654, paid_at=__import__("datetime").datetime(2026, 12, 1),
    )  # fmt: skip
    monkeypatch.setattr(
        selectors, "farmer_balance", lambda farmer: selectors.Balance(owed=[Money(99_999_999, "XOF")], last_line=line)
    )
    monkeypatch.setattr(selectors, "farmer_input_credit", lambda farmer: [Money(9_999_999, "XOF")])


# Segments per template and language: (template, language) -> segments. A change of wording that costs one more
# SMS fails here.
# French é è à are in the GSM alphabet, so these stay GSM-7 (160 a segment).
EXPECTED = {
    ("statement", "en"): 1, ("statement", "fr"): 1, ("statement", "sw"): 1,
    ("credit", "en"): 1, ("credit", "fr"): 1, ("credit", "sw"): 1,
    ("help", "en"): 1, ("help", "fr"): 1, ("help", "sw"): 1,
}  # fmt: skip


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", ["statement", "credit", "help"])
def test_each_template_states_its_segments(fake_reads, template, language, db):
    caller = caller_with(language)
    with translation.override(language):
        text = {
            "statement": entries.statement_text,
            "credit": entries.credit_text,
            "help": entries.help_text,
        }[template](caller)
    assert sms_segments(text).count == EXPECTED[(template, language)], (text, sms_segments(text))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_statement_keeps_its_details_within_two_segments(fake_reads, language):
    with translation.override(language):
        text = entries.statement_text(caller_with(language))
    assert "110,987,654" in text and "99,999,999" in text


@settings(max_examples=200, deadline=None)
@given(
    gross=st.integers(0, 10**15),
    levy_share=st.floats(0, 1),
    credit_share=st.floats(0, 1),
    currency=st.sampled_from(["XOF", "KES", "RWF"]),
    name=st.text(min_size=0, max_size=120),
    language=st.sampled_from(LANGUAGES),
)
def test_the_payout_statement_sms_stays_within_two_segments_in_every_language(
    gross, levy_share, credit_share, currency, name, language
):
    levy = int(gross * levy_share)
    credit = int((gross - levy) * credit_share)
    line = SimpleNamespace(
        batch=SimpleNamespace(currency=currency), reference="PB00012-345678", gross_amount=gross, levy_amount=levy,
        credit_amount=credit, net_amount=gross - levy - credit,
    )  # fmt: skip
    text = sms_text(line, organisation_name=name, language=language)
    assert sms_segments(text).count <= 2


@pytest.mark.parametrize(
    ("name", "language", "segments"),
    [
        ("Coopérative Agricole de la Nawa", "en", 1),
        ("Coopérative Agricole de la Nawa", "fr", 1),
        ("Coopérative Agricole de la Nawa", "sw", 1),
        ("Coopérative de Côte d'Ivoire", "fr", 2),  # ô is not GSM-7: the whole SMS is UCS-2
        ("Chama cha Ushirika Nyeri", "sw", 1),
    ],
)
def test_the_payout_statement_sms_of_a_typical_payout(name, language, segments):
    line = SimpleNamespace(
        batch=SimpleNamespace(currency="XOF"), reference="PB00012-34", gross_amount=970_000, levy_amount=19_400,
        credit_amount=100_000, net_amount=850_600,
    )  # fmt: skip
    text = sms_text(line, organisation_name=name, language=language)
    assert sms_segments(text).count == segments, text
    assert "850,600" in text


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_statement_sms_by_keyword_fits_two_segments(sms_in, paid_farmer, with_pin, language):
    from marketplace.channels.models import Message

    paid_farmer.language = language
    paid_farmer.save()
    with_pin(paid_farmer)
    sms_in(paid_farmer.phone, f"BAL {PIN}")
    reply = Message.objects.filter(direction="out").latest("pk")
    assert reply.segments <= 2 and reply.segments == sms_segments(reply.body).count
    assert "1,109,876" in reply.body


@pytest.mark.skipif(__import__("shutil").which("msgfmt") is None, reason="gettext's msgfmt is not installed")
@pytest.mark.parametrize("language", ["fr", "sw"])
def test_the_channel_catalogues_are_compiled_and_complete(language, tmp_path):
    import re
    import subprocess
    from pathlib import Path

    folder = Path(entries.__file__).parent / "locale" / language / "LC_MESSAGES"
    text = (folder / "django.po").read_text(encoding="utf-8")
    assert not re.findall(r'^msgstr ""\n\n', text, re.M), "a message without its translation"
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(folder / "django.po")], check=True)
    assert compiled.read_bytes() == (folder / "django.mo").read_bytes(), "compile the catalogue (msgfmt)"
