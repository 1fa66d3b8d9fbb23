"""The demo has open requests from Amstel Origins (cocoa, coffee) and Mavuno Millers (maize), each with a live
proposal, and a cocoa request filled from two cooperatives' lots as one consignment; seeding again adds nothing."""

from io import StringIO

from django.core.management import call_command

from marketplace.matching.models import BuyerRequest, Consignment, Proposal
from orders.models import Order


def test_demo_requests_have_live_proposals_and_seeding_twice_adds_nothing(db):
    call_command("seed_demo", allow_production=True, stdout=StringIO())
    rows = sorted(BuyerRequest.objects.values_list("buyer__display_name", "commodity__code", "status"))
    assert rows == [
        ("Amstel Origins", "cocoa-beans", "filled"),
        ("Amstel Origins", "cocoa-beans", "open"),
        ("Amstel Origins", "coffee-arabica-cherry", "open"),
        ("Mavuno Millers", "maize-white", "open"),
    ]
    for request in BuyerRequest.objects.filter(status="open"):
        assert Proposal.objects.filter(request=request, status="open").exists(), request
    (consignment,) = Consignment.objects.all()
    orders = Order.objects.filter(purchase=consignment.purchase)
    assert orders.count() == 2 and len({o.seller_id for o in orders}) == 2
    assert consignment.request.status == "filled"
    proposals = Proposal.objects.count()
    output = StringIO()
    call_command("seed_demo", allow_production=True, stdout=output)
    assert "matching: nothing new" in output.getvalue()
    assert BuyerRequest.objects.count() == 4 and Proposal.objects.count() == proposals
    assert Consignment.objects.count() == 1
