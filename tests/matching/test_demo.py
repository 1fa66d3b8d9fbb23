"""The demo has open requests from Amstel Origins (cocoa, coffee) and Mavuno Millers (maize), each with a live
proposal; seeding again adds nothing."""

from io import StringIO

from django.core.management import call_command

from marketplace.matching.models import BuyerRequest, Proposal


def test_demo_requests_have_live_proposals_and_seeding_twice_adds_nothing(db):
    call_command("seed_demo", allow_production=True, stdout=StringIO())
    rows = sorted(BuyerRequest.objects.values_list("buyer__display_name", "commodity__code", "status"))
    assert rows == [
        ("Amstel Origins", "cocoa-beans", "open"),
        ("Amstel Origins", "coffee-arabica-cherry", "open"),
        ("Mavuno Millers", "maize-white", "open"),
    ]
    for request in BuyerRequest.objects.all():
        assert Proposal.objects.filter(request=request, status="open").exists(), request
    proposals = Proposal.objects.count()
    output = StringIO()
    call_command("seed_demo", allow_production=True, stdout=output)
    assert "matching: nothing new" in output.getvalue()
    assert BuyerRequest.objects.count() == 3 and Proposal.objects.count() == proposals
