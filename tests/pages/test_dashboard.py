import pytest
from django.urls import reverse

from marketplace.organisations.middleware import SESSION_KEY
from marketplace.organisations.models import MemberFarmer, Organisation
from marketplace.organisations.roles import Role
from tests.factories import MemberFarmerFactory, MembershipFactory, OrganisationFactory, PlotFactory

pytestmark = pytest.mark.django_db

REGISTER = 'href="/members/"'
ADD_MEMBER = 'href="/members/add/"'
PEOPLE = 'href="/people/"'
ORGANISATIONS = 'href="/organisations/"'


@pytest.mark.parametrize(
    ("role", "visible", "hidden"),
    [
        (Role.VIEWER, [REGISTER], [ADD_MEMBER, PEOPLE, ORGANISATIONS]),
        (Role.CLERK, [REGISTER, ADD_MEMBER], [PEOPLE, ORGANISATIONS]),
        (Role.MANAGER, [REGISTER, ADD_MEMBER, PEOPLE], [ORGANISATIONS]),
        (Role.ADMIN, [REGISTER, ADD_MEMBER, PEOPLE], [ORGANISATIONS]),
    ],
)
def test_navigation_follows_the_role(client, coop, user_in, login, role, visible, hidden):
    login(user_in(coop, role))
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    for link in visible:
        assert link in html
    for link in hidden:
        assert link not in html


def test_operators_see_organisations_and_what_waits_for_verification(client, operator, login):
    OrganisationFactory(verification_status=Organisation.Verification.PENDING)
    OrganisationFactory(verification_status=Organisation.Verification.PENDING)
    login(operator)
    html = client.get(reverse("dashboard")).content.decode()
    assert ORGANISATIONS in html
    assert REGISTER not in html  # the operator is not a cooperative
    assert "2 organisations are waiting for verification." in html


def test_a_buyer_has_no_member_register(client, user_in, login):
    buyer = OrganisationFactory(kind=Organisation.Kind.BUYER, legal_name="Choco Buyer")
    login(user_in(buyer, Role.ADMIN))
    html = client.get(reverse("dashboard")).content.decode()
    assert "Choco Buyer" in html
    assert REGISTER not in html
    assert client.get(reverse("member-list")).status_code == 404


def test_cooperative_dashboard_shows_member_figures(client, coop, user_in, login):
    MemberFarmerFactory.create_batch(3, organisation=coop, gender=MemberFarmer.Gender.FEMALE, birth_year=1970)
    young = MemberFarmerFactory(organisation=coop, gender=MemberFarmer.Gender.MALE, birth_year=2004)
    MemberFarmerFactory(organisation=coop, status=MemberFarmer.Status.LEFT)
    PlotFactory(farmer=young, area_hectares="2.5")
    PlotFactory(farmer=young, area_hectares="1.25")
    MemberFarmerFactory.create_batch(4)  # another cooperative's
    login(user_in(coop, Role.VIEWER))
    response = client.get(reverse("dashboard"))
    assert response.context["figures"] == {"total": 4, "women": 3, "youth": 1}
    assert response.context["plots"]["count"] == 2
    html = response.content.decode()
    assert "plots, 3.75 ha" in html
    # with no lots, orders or money yet, no empty sections for them (the figures: tests/market/test_dashboard.py)
    main = html.split("<main", 1)[1]
    for heading in ('id="stock-heading"', 'id="orders-heading"', 'id="money-heading"', 'id="payouts-heading"'):
        assert heading not in main


def test_a_user_without_organisation_gets_a_welcome(client, login):
    from tests.factories import UserFactory

    login(UserFactory())
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    assert "not a member of any organisation yet" in response.content.decode()


def test_the_organisation_switcher_changes_what_the_pages_show(client, coop, other_coop, user_in, login):
    user = user_in(coop, Role.CLERK)
    MembershipFactory(user=user, organisation=other_coop, role=Role.VIEWER)
    MemberFarmerFactory(organisation=coop, name="Awa Alpha")
    MemberFarmerFactory(organisation=other_coop, name="Bintou Beta")
    login(user)
    html = client.get(reverse("dashboard")).content.decode()
    assert 'action="/organisation/switch/"' in html
    assert client.post(reverse("organisation-switch"), {"organisation": coop.pk}).status_code == 302
    assert client.session[SESSION_KEY] == coop.pk
    assert "Awa Alpha" in client.get(reverse("member-list")).content.decode()

    response = client.post(reverse("organisation-switch"), {"organisation": other_coop.pk})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == other_coop.pk
    html = client.get(reverse("member-list")).content.decode()
    assert "Bintou Beta" in html
    assert "Awa Alpha" not in html
    assert ADD_MEMBER not in html  # a viewer in the second cooperative


def test_switching_to_an_organisation_you_do_not_belong_to_is_refused(client, coop, other_coop, user_in, login):
    user = user_in(coop)
    login(user)
    response = client.post(reverse("organisation-switch"), {"organisation": other_coop.pk})
    assert response.status_code == 404
    assert SESSION_KEY not in client.session
    assert client.post(reverse("organisation-switch"), {"organisation": "x"}).status_code == 404
    assert client.get(reverse("organisation-switch")).status_code == 405


def test_a_user_in_one_organisation_sees_no_switcher(client, coop, user_in, login):
    login(user_in(coop))
    assert "/organisation/switch/" not in client.get(reverse("dashboard")).content.decode()
