from io import StringIO

import pytest
from django.core.management import call_command

from marketplace.decisions.models import Decision
from marketplace.organisations.models import Organisation


@pytest.mark.django_db
def test_each_demo_cooperative_has_an_open_and_a_closed_decision(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", allow_production=True, stdout=StringIO())
    for coop in Organisation.objects.filter(kind=Organisation.Kind.COOPERATIVE):
        statuses = sorted(Decision.objects.filter(organisation=coop).values_list("status", flat=True))
        assert statuses == ["closed", "open"], coop
        closed = Decision.objects.get(organisation=coop, status="closed")
        assert closed.quorum_met and closed.outcome == "Decided: Yes."
    count = Decision.objects.count()
    call_command("seed_demo", allow_production=True, stdout=StringIO())
    assert Decision.objects.count() == count
