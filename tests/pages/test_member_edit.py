"""Editing a member and a plot after registration: clerks and above, only in their own cooperative."""

import pytest

from marketplace.core.models import AuditEvent
from marketplace.organisations.roles import Role
from tests.factories import MemberFarmerFactory, PlotFactory

pytestmark = pytest.mark.django_db


def test_a_clerk_edits_a_member_from_the_member_page(coop, user_in, login):
    farmer = MemberFarmerFactory(organisation=coop, name="Awa Kone", village="Soubré")
    client = login(user_in(coop, Role.CLERK))
    assert f'href="/members/{farmer.pk}/edit/"' in client.get(f"/members/{farmer.pk}/").content.decode()
    form = client.get(f"/members/{farmer.pk}/edit/").content.decode()
    assert 'value="Awa Kone"' in form
    answer = client.post(
        f"/members/{farmer.pk}/edit/",
        {"member_number": farmer.member_number, "name": "Awa Koné", "phone": "07 01 02 03 04", "village": "Méagui"},
    )
    assert answer.status_code == 302
    farmer.refresh_from_db()
    assert (farmer.name, farmer.village, str(farmer.phone)) == ("Awa Koné", "Méagui", "+2250701020304")
    assert AuditEvent.objects.filter(action="member_farmer.updated", subject_id=str(farmer.pk)).exists()


def test_bad_input_is_refused_and_nothing_changes(coop, user_in, login):
    farmer = MemberFarmerFactory(organisation=coop, name="Awa Kone")
    answer = login(user_in(coop, Role.CLERK)).post(
        f"/members/{farmer.pk}/edit/", {"member_number": farmer.member_number, "name": "", "phone": "12"}
    )
    farmer.refresh_from_db()
    assert answer.status_code == 400 and farmer.name == "Awa Kone"


def test_a_viewer_or_another_cooperative_cannot_edit(coop, other_coop, user_in, login, client):
    farmer = MemberFarmerFactory(organisation=coop, name="Awa Kone")
    plot = PlotFactory(farmer=farmer, name="Cacao")
    login(user_in(other_coop, Role.ADMIN))
    assert client.get(f"/members/{farmer.pk}/edit/").status_code == 404
    assert client.post(f"/members/{farmer.pk}/plots/{plot.pk}/edit/", {"name": "X"}).status_code == 404
    login(user_in(coop, Role.VIEWER))
    assert client.post(f"/members/{farmer.pk}/edit/", {"name": "X"}).status_code in (403, 404)
    farmer.refresh_from_db()
    assert farmer.name == "Awa Kone"


def test_a_clerk_edits_a_plot(coop, user_in, login):
    farmer = MemberFarmerFactory(organisation=coop)
    plot = PlotFactory(farmer=farmer, name="Cacao", area_hectares="2.5")
    client = login(user_in(coop, Role.CLERK))
    assert f'href="/members/{farmer.pk}/plots/{plot.pk}/edit/"' in client.get(f"/members/{farmer.pk}/").content.decode()
    answer = client.post(
        f"/members/{farmer.pk}/plots/{plot.pk}/edit/",
        {"name": "Cacao nord", "area_hectares": "3.25", "country": plot.country.code, "geometry": ""},
    )
    assert answer.status_code == 302
    plot.refresh_from_db()
    assert plot.name == "Cacao nord" and str(plot.area_hectares) == "3.2500"
