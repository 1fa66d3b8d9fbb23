"""Two cooperatives accept their parts of one proposal while the buyer accepts and a re-match runs, each in its own
thread and connection, committing for real: never an oversold listing, never a half-made consignment."""

import threading

import pytest
from django.db import connection

from catalogue.models import Listing
from marketplace.matching import services
from marketplace.matching.models import Consignment, Proposal, ProposalPart
from orders.models import Order, OrderLine
from tests.matching.factories import make_market, post_request

ROUNDS = 3


def run_together(*calls):
    barrier = threading.Barrier(len(calls))
    failures = []

    def wrap(call):
        try:
            barrier.wait()
            call()
        except Exception as error:  # a refused move is fine; the invariants below decide
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrap, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return failures


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(ROUNDS))
def test_concurrent_acceptances_and_rematch_never_oversell_nor_half_make(round_):
    market = make_market()
    request = post_request(market)  # committed: its re-match ran on commit (eager tasks in tests)
    commodity_id = market.grade_1.commodity_id
    services.matching_rematch(commodity_id=commodity_id, currency="XOF")
    proposal_id = Proposal.objects.get(request=request, status="open").pk
    part_a = ProposalPart.objects.get(proposal_id=proposal_id, seller=market.coop_a.organisation)
    part_b = ProposalPart.objects.get(proposal_id=proposal_id, seller=market.coop_b.organisation)
    if round_ == 2:
        services.proposal_accept(actor=market.buyer.manager, proposal_id=proposal_id)
    calls = [
        lambda: services.proposal_part_accept(actor=market.coop_a.manager, part_id=part_a.pk),
        lambda: services.proposal_part_accept(actor=market.coop_b.manager, part_id=part_b.pk),
        lambda: services.matching_rematch(commodity_id=commodity_id, currency="XOF"),
    ]
    if round_ != 2:
        calls.append(lambda: services.proposal_accept(actor=market.buyer.manager, proposal_id=proposal_id))
    failures = run_together(*calls)
    # The only acceptable refusal: the re-match withdrew the proposal before anyone accepted.
    proposal = Proposal.objects.get(pk=proposal_id)
    for error in failures:
        assert "withdrawn" in str(error), repr(error)
    for listing in Listing.objects.filter(pk__in=[market.listing_a.pk, market.listing_b.pk]):
        assert listing.quantity_available_grams >= 0
        assert listing.quantity_available_grams + listing.quantity_reserved_grams + listing.quantity_sold_grams == (
            listing.quantity_offered_grams
        )
    consignments = Consignment.objects.filter(proposal_id=proposal_id)
    if proposal.status == "accepted":
        (consignment,) = consignments
        orders = Order.objects.filter(purchase=consignment.purchase)
        assert orders.count() == 2
        assert sum(line.quantity for line in OrderLine.objects.filter(order__in=orders)) == consignment.grams
        assert consignment.grams == 20_000_000
    else:
        assert not consignments.exists()
        assert not Order.objects.filter(buyer=market.buyer.organisation).exists()
        assert all(x.quantity_reserved_grams == 0 for x in Listing.objects.all())
    # Accepted proposals stand: a re-match afterwards changes nothing about them.
    services.matching_rematch(commodity_id=commodity_id, currency="XOF")
    assert Proposal.objects.get(pk=proposal_id).status == proposal.status
