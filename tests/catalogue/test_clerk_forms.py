"""The clerk's forms on a phone: the delivery form chooses the usual commodity and the only collection point,
a clerk adds a collection point from it, date inputs hold ISO dates in French, and the catalogue's sort menu
lists each option once."""

import re

import pytest
from django.utils import translation

from catalogue.models import Location
from marketplace.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _selected(html: str, name: str) -> str | None:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)
    found = re.search(r'<option value="([^"]*)" selected>', select)
    return found.group(1) if found else None


def test_the_delivery_form_defaults_to_the_only_point_and_the_last_used_commodity(
    login, clerk, farmer, collection_point, cocoa, maize
):
    client = login(clerk)
    first = client.get("/catalogue/deliveries/new/").content.decode()
    assert _selected(first, "collection_point") == str(collection_point.pk)
    assert _selected(first, "commodity") is None  # two commodities, none used yet
    step = {"member_number": farmer.member_number, "collection_point": collection_point.pk, "commodity": maize.pk}
    client.get("/catalogue/deliveries/new/", step)
    again = client.get("/catalogue/deliveries/new/").content.decode()
    assert _selected(again, "commodity") == str(maize.pk)


def test_a_clerk_adds_a_collection_point_from_the_delivery_form(login, clerk, coop, collection_point):
    client = login(clerk)
    assert 'href="/catalogue/collection-points/new/"' in client.get("/catalogue/deliveries/new/").content.decode()
    answer = client.post("/catalogue/collection-points/new/", {"name": "Marché de Gagnoa", "region": "Gôh"})
    assert answer.status_code == 302 and answer["Location"] == "/catalogue/deliveries/new/"
    point = Location.objects.get(organisation=coop, name="Marché de Gagnoa")
    assert point.is_collection_point and not point.is_warehouse and point.code == "marche-de-gagnoa"
    assert AuditEvent.objects.filter(action="location.created", subject_id=str(point.pk)).exists()
    assert _selected(client.get("/catalogue/deliveries/new/").content.decode(), "collection_point") == str(point.pk)
    client.post("/catalogue/collection-points/new/", {"name": "Marché de Gagnoa"})
    assert Location.objects.filter(organisation=coop, code="marche-de-gagnoa-2").exists()


def test_a_collection_point_needs_a_name_and_nothing_is_written(login, clerk, coop):
    answer = login(clerk).post("/catalogue/collection-points/new/", {"name": "  "})
    assert answer.status_code == 400 and not Location.objects.filter(organisation=coop).exists()


def test_a_viewer_or_a_buyer_cannot_add_a_collection_point(login, viewer, supplier_manager):
    assert login(viewer).post("/catalogue/collection-points/new/", {"name": "X"}).status_code in (403, 404)
    assert login(supplier_manager).get("/catalogue/collection-points/new/").status_code in (403, 404)
    assert not Location.objects.filter(name="X").exists()


def test_the_french_delivery_form_holds_an_iso_date(login, clerk, farmer, collection_point, cocoa):
    client = login(clerk)
    client.cookies["django_language"] = "fr"
    step = {"member_number": farmer.member_number, "collection_point": collection_point.pk, "commodity": cocoa.pk}
    with translation.override("fr"):
        html = client.get("/catalogue/deliveries/new/", step, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'lang="fr"' in html
    value = re.search(r'<input type="date" name="delivered_on" value="([^"]*)"', html).group(1)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)


def test_the_sort_menu_lists_each_option_once(client, reference):
    html = client.get("/catalogue/").content.decode()
    select = re.search(r'<select name="ordering".*?</select>', html, re.S).group(0)
    labels = re.findall(r"<option[^>]*>([^<]*)</option>", select)
    assert len(labels) == len(set(labels)) == 7
