"""`{% load formats %}`: money, numbers and dates in the reader's language (Babel)."""

import datetime

import pytest
from django.template import Context, Template
from django.utils import translation

from marketplace.core.money import Money
from marketplace.core.widgets import IsoDateInput

NNBSP, NBSP = "\u202f", "\u00a0"


def render(source: str, language: str, **context) -> str:
    with translation.override(language):
        return Template("{% load formats %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("language", "amount", "currency", "expected"),
    [
        ("fr", 1_500_000, "XOF", f"1{NNBSP}500{NNBSP}000{NBSP}F{NNBSP}CFA"),
        ("en", 1_500_000, "XOF", f"F{NNBSP}CFA{NBSP}1,500,000"),
        ("fr", 2_500, "RWF", f"2{NNBSP}500{NBSP}RWF"),
        ("en", 250_000, "UGX", f"UGX{NBSP}250,000"),
        ("fr", 123_456, "EUR", f"1{NNBSP}234,56{NBSP}€"),
        ("en", 123_456, "EUR", "€1,234.56"),
        ("en", 150_050, "KES", f"KES{NBSP}1,500.50"),
        ("en", -5_000, "XOF", f"-F{NNBSP}CFA{NBSP}5,000"),
    ],
)
def test_minor_units_print_in_the_readers_format(language, amount, currency, expected):
    assert render("{{ amount|money:currency }}", language, amount=amount, currency=currency) == expected


def test_a_money_value_needs_no_currency_argument():
    assert render("{{ price|money }}", "fr", price=Money(1_500_000, "XOF")) == f"1{NNBSP}500{NNBSP}000{NBSP}F{NNBSP}CFA"


@pytest.mark.parametrize("value", [None, "", "abc"])
def test_nothing_or_nonsense_prints_a_dash(value):
    assert render("{{ value|money:'XOF' }}", "en", value=value) == "—"
    assert render("{{ value|money }}", "en", value=value) == "—"


def test_the_old_filter_names_print_the_same():
    source = "{% load orders_tags %}{{ a|money:'XOF' }}|{% load catalogue %}{{ a|minor:'XOF' }}|{{ m|money }}"
    with translation.override("fr"):
        text = Template(source).render(Context({"a": 1_500_000, "m": Money(1_500_000, "XOF")}))
    assert text == "|".join([f"1{NNBSP}500{NNBSP}000{NBSP}F{NNBSP}CFA"] * 3)


def test_dates_carry_the_month_in_words():
    day = datetime.date(2026, 12, 3)
    assert render("{{ d|day }}", "fr", d=day) == "3 déc. 2026"
    assert render("{{ d|day }}", "en", d=day) == "Dec 3, 2026"
    moment = datetime.datetime(2026, 12, 3, 14, 5, tzinfo=datetime.UTC)
    assert render("{{ d|day_time }}", "fr", d=moment).startswith("3 déc. 2026, ")
    assert render("{{ d|day }}", "fr", d=None) == "—"


def test_numbers_group_in_the_readers_format():
    assert render("{{ n|number }}", "fr", n=1_500_000) == f"1{NNBSP}500{NNBSP}000"
    assert render("{{ n|number:2 }}", "en", n=1234.5) == "1,234.50"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_date_input_holds_an_iso_date_in_every_language(language):
    with translation.override(language):
        html = IsoDateInput().render("delivered_on", datetime.date(2026, 12, 3))
    assert 'type="date"' in html and 'value="2026-12-03"' in html
    assert render("{{ d|iso_date }}", language, d=datetime.date(2026, 12, 3)) == "2026-12-03"
