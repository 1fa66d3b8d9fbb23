"""The pages a Kenyan clerk uses render in Swahili: the menu and base layout, the member register, a member and
their plots, the delivery form and receipt, collection points, cash payouts and the input request form."""

import datetime
import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import timezone

from marketplace.organisations.services import user_set_language
from orders.services import group_windows
from payments.payouts.models import PayoutBatch, PayoutLine
from tests.catalogue.factories import InputProductFactory, PackagingFactory

pytestmark = pytest.mark.django_db


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def text_of(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(parser.parts)


@pytest.fixture
def swahili_clerk(clerk):
    user_set_language(actor=clerk, language="sw")
    client = Client()
    client.force_login(clerk)
    client.cookies["django_language"] = "sw"
    return client


@pytest.fixture
def cash_line(coop, farmer):
    farmer.phone = ""
    farmer.save()
    batch = PayoutBatch.objects.create(
        organisation=coop, currency="XOF", status=PayoutBatch.Status.EXECUTED, levy_bp=200,
        proceeds_amount=100_000, levy_amount=2_000, credit_amount=0, net_amount=98_000,
        approved_at=timezone.now(), executed_at=timezone.now(),
    )  # fmt: skip
    return PayoutLine.objects.create(batch=batch, farmer=farmer, gross_amount=100_000, levy_amount=2_000,
                                     credit_amount=0, net_amount=98_000)  # fmt: skip


@pytest.fixture
def window(coop, manager):
    product = InputProductFactory(packaging=PackagingFactory(net_mass_grams=50_000), name="NPK 15-15-15")
    now = timezone.now()
    window = group_windows.window_create(
        actor=manager, organisation_id=coop.pk, name="Masika", product_ids=[product.pk],
        opens_at=now - datetime.timedelta(hours=1), closes_at=now + datetime.timedelta(days=7),
    )  # fmt: skip
    return group_windows.window_transition(actor=manager, window_id=window.pk, to_status="open")


def pages(farmer, plot, delivery, cash_line, window) -> dict[str, list[str]]:
    """Each page and Swahili it must show."""
    return {
        "/members/": ["Daftari la wanachama", "Wakulima wanachama", "Tafuta", "Toka", "Badilisha lugha", "Karani"],
        f"/members/{farmer.pk}/": ["Hariri mwanachama", "Ongeza shamba", "Mashamba", "Hai"],
        f"/members/{farmer.pk}/edit/": ["Namba ya mwanachama", "Jina kamili", "Hifadhi mabadiliko"],
        f"/members/{farmer.pk}/plots/add/": ["Jina la shamba", "Eneo (hekta)", "Ongeza shamba"],
        f"/members/{farmer.pk}/plots/{plot.pk}/edit/": ["Hariri shamba", "Hifadhi shamba"],
        "/catalogue/deliveries/new/": ["Rekodi mapokezi", "Kituo cha kukusanya", "Namba ya mwanachama"],
        "/catalogue/deliveries/": ["Risiti", "Halisi (kg)"],
        f"/catalogue/deliveries/{delivery.pk}/": ["Uzito halisi", "Imerekodiwa na", "Batilisha mapokezi haya"],
        "/catalogue/collection-points/new/": ["Ongeza kituo cha kukusanya", "Kijiji au eneo (si lazima)"],
        "/payouts/cash/": ["Malipo kwa fedha taslimu", "Za kukabidhi", "Kabidhi kwa"],
        f"/payouts/cash/{cash_line.pk}/": ["Nimekabidhi", "Maelezo (si lazima)"],
        f"/orders/group/windows/{window.pk}/request/": ["Rekodi ombi la pembejeo", "Ziada inayokubalika", "Ongeza"],
    }


# Words of the layout and menu every page shows in Swahili.
LAYOUT = ["Ruka hadi maudhui", "Menyu", "Dashibodi", "Mapokezi ya mazao"]
# English phrases that must not be left on the clerk's pages.
ENGLISH = re.compile(
    r"\b(Record the delivery|Member number|Save the changes|Add a plot|Collection point|Hand over|Sign out|"
    r"Skip to the content|Change language|Member register|Cash payouts|Record an input request|Tolerance|"
    r"Active|Female|Clerk|Delivery)\b"
)


def test_the_clerks_pages_render_in_swahili(swahili_clerk, farmer, plot, record, cash_line, window):
    delivery = record(farmer)
    for url, expected in pages(farmer, plot, delivery, cash_line, window).items():
        response = swahili_clerk.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert '<html lang="sw"' in html, url
        text = text_of(html)
        for phrase in [*expected, *LAYOUT]:
            assert phrase in text, (url, phrase)
        assert not ENGLISH.search(text), (url, ENGLISH.search(text).group(0))


def test_the_language_switcher_offers_swahili_and_remembers_it(clerk):
    client = Client()
    client.force_login(clerk)
    html = client.get("/members/").content.decode()
    assert '<option value="sw" lang="sw">Kiswahili</option>' in html
    response = client.post("/language/", {"language": "sw", "next": "/members/"})
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.preferred_language == "sw"
    assert "Daftari la wanachama" in client.get("/members/").content.decode()
