"""Requests, re-matching and answers to proposals, through the services against PostgreSQL."""

import datetime

import pytest
from django.db.models import Sum

from catalogue.models import Listing
from marketplace.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from marketplace.core.models import AuditEvent, OutboxMessage
from marketplace.matching import services
from marketplace.matching.models import BuyerRequest, Consignment, Proposal, ProposalPart
from orders.models import Order
from tests.matching.factories import post_request, request_input
from tests.orders.factories import TONNE


def rematch(market):
    return services.matching_rematch(commodity_id=market.grade_1.commodity_id, currency="XOF")


def test_a_request_is_filled_from_two_cooperatives_as_one_consignment(market):
    request = post_request(market)
    assert OutboxMessage.objects.filter(task_name="marketplace.matching.tasks.rematch_commodity").exists()
    outcome = rematch(market)
    (proposal,) = Proposal.objects.filter(pk__in=outcome.proposals_created)
    parts = {p.listing_id: p for p in proposal.parts.all()}
    assert {k: v.grams for k, v in parts.items()} == {market.listing_a.pk: 12 * TONNE, market.listing_b.pk: 8 * TONNE}
    for part in parts.values():
        assert part.surplus_per_tonne_minor == 1_700_000 - 1_500_000 - part.transport_per_tonne_minor
        assert part.transport_per_tonne_minor == round(75 * float(part.distance_km), -0) or part.distance_km > 0
    # Each cooperative is told, once.
    assert OutboxMessage.objects.filter(task_name="marketplace.matching.tasks.notify_proposal_part").count() == 2

    services.proposal_part_accept(actor=market.coop_a.manager, part_id=parts[market.listing_a.pk].pk)
    services.proposal_part_accept(actor=market.coop_b.manager, part_id=parts[market.listing_b.pk].pk)
    assert not Consignment.objects.exists()  # the buyer has not accepted yet: nothing reserved
    services.proposal_accept(actor=market.buyer.manager, proposal_id=proposal.pk)

    proposal.refresh_from_db()
    request.refresh_from_db()
    assert proposal.status == "accepted"
    consignment = Consignment.objects.get(proposal=proposal)
    orders = Order.objects.filter(purchase=consignment.purchase)
    assert {o.seller_id for o in orders} == {market.coop_a.organisation.pk, market.coop_b.organisation.pk}
    assert consignment.grams == 20 * TONNE
    assert request.filled_grams == 20 * TONNE and request.status == "filled"
    a = Listing.objects.get(pk=market.listing_a.pk)
    b = Listing.objects.get(pk=market.listing_b.pk)
    assert (a.quantity_reserved_grams, b.quantity_reserved_grams) == (12 * TONNE, 8 * TONNE)
    assert AuditEvent.objects.filter(action="proposal.accepted", subject_id=str(proposal.pk)).exists()

    # A re-match afterwards never undoes it.
    rematch(market)
    proposal.refresh_from_db()
    assert proposal.status == "accepted"


def test_rematch_keeps_a_proposal_it_would_make_again_and_withdraws_one_that_no_longer_fits(market):
    request = post_request(market)
    first = rematch(market)
    again = rematch(market)
    assert again.proposals_kept == first.proposals_created and not again.proposals_created
    # The buyer lowers its price below every ask: the proposal is withdrawn with a reason, none replaces it.
    data = request_input(market, max_price_per_tonne_minor=1_400_000)
    services.buyer_request_update(actor=market.buyer.manager, request_id=request.pk, data=data)
    proposal = Proposal.objects.get(pk=first.proposals_created[0])
    assert proposal.status == "withdrawn" and "changed the request" in proposal.reason
    assert not rematch(market).proposals_created


def test_truckload_not_reached_gives_no_proposal(market):
    post_request(market, quantity_grams=30 * TONNE, min_truckload_grams=25 * TONNE)  # 22 t exist in all
    assert not rematch(market).proposals_created


def test_far_ungraded_or_uncertified_requests_get_nothing(market):
    post_request(market, max_distance_km=50)
    post_request(market, certifications=("organic",))
    post_request(market, delivery_latitude=48.85, delivery_longitude=2.35, max_distance_km=5000)  # Paris
    assert not rematch(market).proposals_created


def test_a_declined_part_declines_the_proposal_and_rematches(market):
    post_request(market)
    (proposal_id,) = rematch(market).proposals_created
    part = ProposalPart.objects.get(proposal_id=proposal_id, seller=market.coop_b.organisation)
    services.proposal_part_decline(actor=market.coop_b.manager, part_id=part.pk, reason="Already promised")
    assert Proposal.objects.get(pk=proposal_id).status == "declined"
    with pytest.raises(DomainError, match="declined"):
        services.proposal_part_accept(
            actor=market.coop_a.manager, part_id=ProposalPart.objects.get(proposal_id=proposal_id,
                                                                          seller=market.coop_a.organisation).pk
        )  # fmt: skip


def test_counter_rounds_are_limited_and_the_buyer_accepts_the_counter(market):
    post_request(market)  # 20 t, truckload 15 t
    (proposal_id,) = rematch(market).proposals_created
    part_b = ProposalPart.objects.get(proposal_id=proposal_id, seller=market.coop_b.organisation)
    part_a = ProposalPart.objects.get(proposal_id=proposal_id, seller=market.coop_a.organisation)
    with pytest.raises(ValidationFailed, match="no less than"):
        services.proposal_part_counter(actor=market.coop_b.manager, part_id=part_b.pk, grams=1)
    services.proposal_part_counter(actor=market.coop_b.manager, part_id=part_b.pk, grams=6 * TONNE)
    proposal = Proposal.objects.get(pk=proposal_id)
    assert proposal.round == 2
    with pytest.raises(DomainError, match="buyer answers next"):
        services.proposal_part_accept(actor=market.coop_b.manager, part_id=part_b.pk)
    services.proposal_counter(actor=market.buyer.manager, proposal_id=proposal_id, part_id=part_b.pk, grams=7 * TONNE)
    with pytest.raises(DomainError, match="at most 2 times"):
        services.proposal_part_counter(actor=market.coop_b.manager, part_id=part_b.pk, grams=5 * TONNE)
    services.proposal_part_accept(actor=market.coop_b.manager, part_id=part_b.pk)
    services.proposal_part_accept(actor=market.coop_a.manager, part_id=part_a.pk)
    services.proposal_accept(actor=market.buyer.manager, proposal_id=proposal_id)
    consignment = Consignment.objects.get(proposal_id=proposal_id)
    assert consignment.grams == 19 * TONNE
    request = consignment.request
    request.refresh_from_db()
    # 1 t left is less than a truckload: the request is filled.
    assert request.status == "filled" and request.filled_grams == 19 * TONNE


def test_only_the_right_organisations_answer(market):
    post_request(market)
    (proposal_id,) = rematch(market).proposals_created
    part_a = ProposalPart.objects.get(proposal_id=proposal_id, seller=market.coop_a.organisation)
    with pytest.raises(NotFound):
        services.proposal_part_accept(actor=market.coop_b.manager, part_id=part_a.pk)
    with pytest.raises(NotFound):
        services.proposal_accept(actor=market.stranger_buyer.manager, proposal_id=proposal_id)
    with pytest.raises(PermissionDenied):
        services.proposal_part_accept(actor=market.coop_a.clerk, part_id=part_a.pk)
    with pytest.raises(NotFound):
        services.proposal_accept(actor=market.coop_a.manager, proposal_id=proposal_id)


def test_a_listing_sold_meanwhile_withdraws_the_proposal_and_writes_no_order(market):
    from orders.services import LineInput, purchase_place

    post_request(market)
    (proposal_id,) = rematch(market).proposals_created
    for part in ProposalPart.objects.filter(proposal_id=proposal_id):
        seller = market.coop_a if part.seller_id == market.coop_a.organisation.pk else market.coop_b
        services.proposal_part_accept(actor=seller.manager, part_id=part.pk)
    # Someone buys 5 t of listing B directly first.
    purchase_place(actor=market.stranger_buyer.manager, buyer_id=market.stranger_buyer.organisation.pk,
                   lines=[LineInput(quantity=5 * TONNE, listing_id=market.listing_b.pk)])  # fmt: skip
    services.proposal_accept(actor=market.buyer.manager, proposal_id=proposal_id)
    proposal = Proposal.objects.get(pk=proposal_id)
    assert proposal.status == "withdrawn" and "could not be ordered" in proposal.reason
    assert not Consignment.objects.exists()
    assert Order.objects.filter(buyer=market.buyer.organisation).count() == 0
    assert Listing.objects.get(pk=market.listing_a.pk).quantity_reserved_grams == 0


def test_request_input_is_checked(market):
    with pytest.raises(ValidationFailed) as error:
        post_request(market, quantity_grams=0, min_fill_grams=-1, currency="xx1", max_distance_km=9999,
                     window_end=datetime.date.today() - datetime.timedelta(days=60), certifications=("gold",),
                     window_start=datetime.date.today() - datetime.timedelta(days=90))  # fmt: skip
    assert set(error.value.fields) >= {"quantity_grams", "min_fill_grams", "currency", "max_distance_km",
                                       "window_end", "certifications"}  # fmt: skip
    with pytest.raises(NotFound):
        services.buyer_request_create(actor=market.buyer.manager, buyer_id=market.stranger_buyer.organisation.pk,
                                      data=request_input(market))  # fmt: skip
    with pytest.raises(PermissionDenied, match="buying organisation"):
        services.buyer_request_create(actor=market.coop_a.manager, buyer_id=market.coop_a.organisation.pk,
                                      data=request_input(market))  # fmt: skip
    assert not BuyerRequest.objects.exists()


def test_withdrawn_request_cannot_be_edited_and_expired_requests_expire(market):
    request = post_request(market)
    services.buyer_request_withdraw(actor=market.buyer.manager, request_id=request.pk, reason="Bought elsewhere")
    with pytest.raises(DomainError, match="no longer be edited"):
        services.buyer_request_update(actor=market.buyer.manager, request_id=request.pk, data=request_input(market))
    other = post_request(market)
    BuyerRequest.objects.filter(pk=other.pk).update(
        window_start=datetime.date.today() - datetime.timedelta(days=9),
        window_end=datetime.date.today() - datetime.timedelta(days=1),
    )
    rematch(market)
    assert BuyerRequest.objects.get(pk=other.pk).status == "expired"


def test_reserved_quantities_never_exceed_the_listings(market):
    post_request(market)
    post_request(market, quantity_grams=15 * TONNE)
    outcome = rematch(market)
    total = ProposalPart.objects.filter(proposal_id__in=outcome.proposals_created).aggregate(g=Sum("grams"))["g"]
    assert total <= 22 * TONNE
