import datetime

import pytest
from django.utils import timezone

from marketplace.decisions import services
from marketplace.organisations.roles import Role
from tests.factories import MemberFarmerFactory, OrganisationFactory


@pytest.fixture
def coop(db):
    return OrganisationFactory()


@pytest.fixture
def manager(make_member, coop):
    return make_member(Role.MANAGER, organisation=coop)


@pytest.fixture
def clerk(make_member, coop):
    return make_member(Role.CLERK, organisation=coop)


@pytest.fixture
def viewer(make_member, coop):
    return make_member(Role.VIEWER, organisation=coop)


@pytest.fixture
def outsider(make_member):
    """A manager of another cooperative."""
    return make_member(Role.MANAGER)


@pytest.fixture
def members(coop):
    return [
        MemberFarmerFactory(organisation=coop, gender="female" if i % 2 else "male", birth_year=1960 + i * 4)
        for i in range(10)
    ]


def motion(**changes) -> services.DecisionInput:
    now = timezone.now()
    fields = {
        "kind": "motion",
        "question": "Build a second drying floor?",
        "options": ["Yes", "No"],
        "opens_at": now - datetime.timedelta(minutes=1),
        "closes_at": now + datetime.timedelta(days=3),
        "quorum_bp": 2500,
        "threshold_bp": 5001,
    }
    fields.update(changes)
    return services.DecisionInput(**fields)


@pytest.fixture
def make_decision(manager, coop):
    def make(*, open_it: bool = True, **changes):
        decision = services.decision_create(actor=manager, organisation_id=coop.pk, data=motion(**changes))
        if open_it:
            decision = services.decision_transition(actor=manager, decision_id=decision.pk, to_status="open")
        return decision

    return make
