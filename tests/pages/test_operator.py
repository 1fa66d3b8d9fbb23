import pytest
from django.urls import reverse

from marketplace.core.models import AuditEvent
from marketplace.organisations.models import Organisation
from marketplace.organisations.roles import Role
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

V = Organisation.Verification


@pytest.fixture
def pending():
    return OrganisationFactory(legal_name="Pending Coop", verification_status=V.PENDING)


def test_the_operator_sees_every_organisation_with_its_status(client, operator, pending, coop, login):
    login(operator)
    response = client.get(reverse("organisation-list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Pending Coop" in html
    assert "Coopérative Alpha" in html
    assert "Pending verification" in html
    assert 'value="verified"' in html
    filtered = client.get(reverse("organisation-list"), {"status": "pending"}).content.decode()
    assert "Pending Coop" in filtered
    assert "Coopérative Alpha" not in filtered


def test_the_operator_verifies_an_organisation(client, operator, pending, login):
    login(operator)
    response = client.post(reverse("organisation-verification", args=[pending.pk]), {"to_status": V.VERIFIED})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.verification_status == V.VERIFIED
    assert pending.verified_at is not None
    event = AuditEvent.objects.get(action="organisation.verification", subject_id=str(pending.pk))
    assert event.actor == operator


def test_a_rejection_needs_a_reason(client, operator, pending, login):
    login(operator)
    response = client.post(reverse("organisation-verification", args=[pending.pk]), {"to_status": V.REJECTED})
    assert response.status_code == 400
    assert "Give a reason when rejecting or suspending." in response.content.decode()
    pending.refresh_from_db()
    assert pending.verification_status == V.PENDING
    response = client.post(
        reverse("organisation-verification", args=[pending.pk]), {"to_status": V.REJECTED, "reason": "No papers"}
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.verification_status == V.REJECTED


def test_a_forbidden_transition_is_refused(client, operator, coop, login):
    login(operator)
    response = client.post(reverse("organisation-verification", args=[coop.pk]), {"to_status": V.PENDING})
    assert response.status_code == 409
    coop.refresh_from_db()
    assert coop.verification_status == V.VERIFIED
    response = client.post(reverse("organisation-verification", args=[coop.pk]), {"to_status": "nonsense"})
    assert response.status_code == 400


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CLERK, Role.MANAGER, Role.ADMIN])
def test_non_operators_cannot_see_or_change_verification(client, coop, pending, user_in, login, role):
    login(user_in(coop, role))
    response = client.get(reverse("organisation-list"))
    assert response.status_code == 403
    assert "Pending Coop" not in response.content.decode()
    response = client.post(reverse("organisation-verification", args=[pending.pk]), {"to_status": V.VERIFIED})
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.verification_status == V.PENDING
    assert not AuditEvent.objects.filter(action="organisation.verification").exists()


def test_the_verification_page_is_translated(client, operator, pending, login):
    login(operator)
    html = client.get(reverse("organisation-list"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "En attente de vérification" in html
    assert "Vérifier" in html
