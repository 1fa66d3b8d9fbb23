import pytest
from django.urls import reverse

from marketplace.core.models import AuditEvent
from marketplace.organisations.models import MemberFarmer, Organisation, Plot
from marketplace.organisations.roles import Role
from tests.factories import MemberFarmerFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

VALID_MEMBER = {
    "member_number": "A-100",
    "name": "Awa Koné",
    "phone": "07 01 02 03 04",  # national format: the cooperative's country is Côte d'Ivoire
    "gender": "female",
    "birth_year": "1990",
    "village": "Soubré",
    "joined_on": "2024-03-01",
}


@pytest.mark.parametrize("role", [Role.CLERK, Role.MANAGER, Role.ADMIN])
def test_clerks_and_above_add_a_member(client, coop, user_in, login, role):
    login(user_in(coop, role))
    assert client.get(reverse("member-add")).status_code == 200
    response = client.post(reverse("member-add"), VALID_MEMBER)
    farmer = MemberFarmer.objects.get(organisation=coop, member_number="A-100")
    assert response.status_code == 302
    assert response["Location"] == reverse("member-detail", args=[farmer.pk])
    assert str(farmer.phone) == "+2250701020304"
    assert farmer.birth_year == 1990
    assert str(farmer.joined_on) == "2024-03-01"
    assert AuditEvent.objects.filter(action="member_farmer.created", subject_id=str(farmer.pk)).exists()
    follow = client.get(response["Location"])
    assert "Awa Koné was added to the register." in follow.content.decode()


def test_joined_on_defaults_to_today(client, coop, user_in, login):
    login(user_in(coop, Role.CLERK))
    data = {**VALID_MEMBER, "joined_on": "", "phone": "", "gender": "", "birth_year": ""}
    assert client.post(reverse("member-add"), data).status_code == 302
    farmer = MemberFarmer.objects.get(member_number="A-100")
    assert farmer.joined_on is not None
    assert str(farmer.phone) == ""


def test_a_viewer_cannot_add_a_member(client, coop, user_in, login):
    login(user_in(coop, Role.VIEWER))
    assert client.get(reverse("member-add")).status_code == 403
    response = client.post(reverse("member-add"), VALID_MEMBER)
    assert response.status_code == 403
    assert "does not allow this" in response.content.decode()
    assert not MemberFarmer.objects.exists()


def test_a_buyer_cannot_add_member_farmers(client, user_in, login):
    buyer = OrganisationFactory(kind=Organisation.Kind.BUYER)
    login(user_in(buyer, Role.ADMIN))
    assert client.post(reverse("member-add"), VALID_MEMBER).status_code == 404
    assert not MemberFarmer.objects.exists()


def test_a_used_member_number_is_refused_on_the_form(client, coop, user_in, login):
    MemberFarmerFactory(organisation=coop, member_number="A-100", name="First")
    login(user_in(coop, Role.CLERK))
    response = client.post(reverse("member-add"), VALID_MEMBER)
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["member_number"] == ["Already used in this cooperative."]
    html = response.content.decode()
    assert "Nothing was saved." in html
    assert 'aria-invalid="true"' in html
    assert 'value="Awa Koné"' in html  # what was typed is kept
    assert MemberFarmer.objects.filter(organisation=coop).count() == 1
    assert not AuditEvent.objects.filter(action="member_farmer.created").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", ""), ("member_number", ""), ("phone", "12"), ("birth_year", "1850"), ("birth_year", "2999")],
)
def test_bad_fields_are_refused_and_nothing_is_written(client, coop, user_in, login, field, value):
    login(user_in(coop, Role.CLERK))
    response = client.post(reverse("member-add"), {**VALID_MEMBER, field: value})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not MemberFarmer.objects.exists()


def test_a_clerk_adds_a_plot(client, coop, user_in, login):
    farmer = MemberFarmerFactory(organisation=coop)
    login(user_in(coop, Role.CLERK))
    page = client.get(reverse("plot-add", args=[farmer.pk]))
    assert page.status_code == 200
    assert page.context["form"].initial["country"] == "CI"
    response = client.post(
        reverse("plot-add", args=[farmer.pk]),
        {
            "name": "Cacao nord",
            "area_hectares": "2.75",
            "country": "CI",
            "geometry": '{"type": "Point", "coordinates": [-6.6, 5.8]}',
        },
    )
    assert response.status_code == 302
    plot = Plot.objects.get(farmer=farmer)
    assert plot.organisation_id == coop.pk
    assert str(plot.area_hectares) == "2.7500"
    assert plot.geometry["type"] == "Point"
    assert "Cacao nord" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"area_hectares": "0"}, "area_hectares"),
        ({"area_hectares": "-1"}, "area_hectares"),
        ({"geometry": "{not json"}, "geometry"),
        ({"geometry": '{"type": "Line", "coordinates": [[0, 0]]}'}, "geometry"),
        ({"country": "XX"}, "country"),
        ({"name": ""}, "name"),
    ],
)
def test_a_bad_plot_is_refused_and_nothing_is_written(client, coop, user_in, login, data, field):
    farmer = MemberFarmerFactory(organisation=coop)
    login(user_in(coop, Role.CLERK))
    response = client.post(
        reverse("plot-add", args=[farmer.pk]), {"name": "P", "area_hectares": "1", "country": "CI", **data}
    )
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Plot.objects.exists()


def test_a_viewer_cannot_add_a_plot(client, coop, user_in, login):
    farmer = MemberFarmerFactory(organisation=coop)
    login(user_in(coop, Role.VIEWER))
    assert client.get(reverse("plot-add", args=[farmer.pk])).status_code == 403
    response = client.post(reverse("plot-add", args=[farmer.pk]), {"name": "P", "area_hectares": "1", "country": "CI"})
    assert response.status_code == 403
    assert not Plot.objects.exists()


def test_forms_are_translated(client, coop, user_in, login):
    login(user_in(coop, Role.CLERK))
    html = client.get(reverse("member-add"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Ajouter un membre" in html
    assert "Numéro de membre" in html
    assert "Année de naissance" in html
