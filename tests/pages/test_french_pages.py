"""French: the catalogue is complete (no empty or fuzzy message, read with polib), and the main pages of every
role, shown in French, contain no sentence of the English catalogue left untranslated."""

import html
import re
from pathlib import Path

import polib
import pytest
from django.test import Client

from tests.orders.factories import advance, make_world, place

PO = Path(__file__).resolve().parents[2] / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def test_no_message_is_empty_or_fuzzy():
    catalogue = polib.pofile(str(PO))
    assert catalogue.percent_translated() == 100, [e.msgid for e in catalogue.untranslated_entries()][:20]
    assert not catalogue.fuzzy_entries(), [e.msgid for e in catalogue.fuzzy_entries()][:20]


def _english_sentences() -> list[str]:
    """Messages whose French differs, long enough (two words or more, no placeholder) not to be a name."""
    found = []
    for entry in polib.pofile(str(PO)):
        text = entry.msgid
        if entry.obsolete or "%" in text or "{" in text or " " not in text.strip() or len(text) < 12:
            continue
        if entry.msgstr and entry.msgstr != text:
            found.append(text)
    return found


def _visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page))


def _french(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.mark.django_db
def test_the_main_pages_of_every_role_leave_no_english_sentence():
    world = make_world()
    order = advance(world, place(world), "accepted")
    farmer = world.listing.lot.contributions.first().farmer
    pages = {
        world.seller.clerk: ["/", "/members/", "/members/add/", "/catalogue/deliveries/", "/catalogue/deliveries/new/",
                             "/catalogue/lots/", f"/catalogue/lots/{world.listing.lot_id}/", "/payouts/cash/",
                             "/catalogue/collection-points/new/"],
        world.seller.manager: ["/catalogue/my-listings/", f"/catalogue/my-listings/new/?lot={world.listing.lot_id}",
                               "/orders/inbox/", f"/orders/{order.number}/", "/payouts/", "/people/"],
        world.buyer.manager: ["/catalogue/", f"/catalogue/listings/{world.listing.pk}/", "/orders/basket/",
                              "/orders/", f"/orders/{order.number}/", f"/payments/orders/{order.number}/"],
        world.supplier.manager: ["/catalogue/supplier/offers/", "/catalogue/offers/", "/orders/inbox/"],
        world.operator.manager: ["/organisations/", "/orders/disputes/", "/payments/ledger/"],
    }  # fmt: skip
    pages[world.seller.clerk] += [f"/members/{farmer.pk}/", f"/members/{farmer.pk}/edit/"]
    english = _english_sentences()
    leaks = {}
    for user, urls in pages.items():
        client = _french(user)
        for url in urls:
            answer = client.get(url, follow=True)
            assert answer.status_code == 200, url
            text = _visible_text(answer.content.decode())
            assert 'lang="fr"' in answer.content.decode(), url
            left = [sentence for sentence in english if sentence in text]
            if left:
                leaks[url] = left
    assert not leaks, leaks
