import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from marketplace.core.errors import Conflict, ValidationFailed
from marketplace.core.models import AuditEvent
from marketplace.organisations.models import Organisation
from marketplace.organisations.roles import Role
from marketplace.organisations.services import operator_bootstrap, organisation_admin_invite

ARGS = {
    "legal_name": "CoopMarket Operations Ltd",
    "country": "KE",
    "registration_number": "PVT-2026-001",
    "currency": "EUR",
    "admin_email": "Root@Example.org",
    "admin_password": "a-long-and-unusual-password",
}


@pytest.mark.django_db
def test_bootstrap_creates_the_verified_operator_and_its_admin_with_audit():
    membership = operator_bootstrap(**ARGS)
    assert membership.role == Role.ADMIN
    assert membership.user.email == "root@example.org"
    assert membership.user.check_password(ARGS["admin_password"])
    operator = membership.organisation
    assert (operator.kind, operator.verification_status) == ("operator", "verified")
    actions = set(AuditEvent.objects.filter(organisation_id=operator.pk).values_list("action", flat=True))
    assert actions == {"organisation.created", "membership.created"}


@pytest.mark.django_db
def test_a_second_operator_is_refused():
    operator_bootstrap(**ARGS)
    with pytest.raises(Conflict):
        operator_bootstrap(**{**ARGS, "registration_number": "OTHER", "admin_email": "b@example.org"})
    assert Organisation.objects.filter(kind="operator").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("override", "field"),
    [({"currency": "EU"}, "currency"), ({"country": "XX"}, "country"), ({"admin_email": "not-an-email"}, "admin_email"),
     ({"admin_password": "123"}, "password")],
)  # fmt: skip
def test_bad_input_names_the_field_and_writes_nothing(override, field):
    with pytest.raises(ValidationFailed) as refused:
        operator_bootstrap(**{**ARGS, **override})
    assert field in refused.value.fields
    assert not Organisation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_bootstraps_make_exactly_one_operator():
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def bootstrap(n: int) -> None:
        barrier.wait()
        try:
            operator_bootstrap(**{**ARGS, "registration_number": f"R{n}", "admin_email": f"a{n}@example.org"})
            outcomes.append("created")
        except Conflict:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=bootstrap, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created", "refused"]
    assert Organisation.objects.filter(kind="operator").count() == 1


@pytest.mark.django_db
def test_the_command_creates_the_operator_and_reports_errors(monkeypatch):
    monkeypatch.setenv("OPERATOR_ADMIN_PASSWORD", ARGS["admin_password"])
    argv = ["--legal-name", "Ops", "--country", "ke", "--registration-number", "R1", "--currency", "eur",
            "--email", "ops@example.org"]  # fmt: skip
    call_command("create_operator", *argv)
    assert Organisation.objects.get(kind="operator").currency == "EUR"
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_operator", *argv)


@pytest.mark.django_db
def test_the_operator_invites_an_organisations_first_admin_and_nobody_else_may(make_member):
    operator_admin = operator_bootstrap(**ARGS).user
    coop = Organisation.objects.create(
        kind="cooperative", legal_name="Coop", country="CI", registration_number="C1", currency="XOF"
    )
    invitation = organisation_admin_invite(actor=operator_admin, organisation_id=coop.pk, email="lead@example.org")
    assert (invitation.role, invitation.organisation) == (Role.ADMIN, coop)
    outsider = make_member(Role.ADMIN)
    from marketplace.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        organisation_admin_invite(actor=outsider, organisation_id=coop.pk, email="x@example.org")
