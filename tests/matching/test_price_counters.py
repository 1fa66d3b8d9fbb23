"""Price counters: a cooperative or the buyer counters a part's price per tonne (at most 3 rounds in all, each
with its own expiry), and the price everyone accepted is what the orders of the consignment charge."""

import datetime

import pytest
from django.utils import timezone

from marketplace.core.errors import DomainError, NotFound, ValidationFailed
from marketplace.core.models import AuditEvent
from marketplace.matching import services
from marketplace.matching.models import Consignment, Proposal, ProposalPart
from orders.models import Order, OrderLine
from orders.services import LineInput, purchase_place
from tests.matching.factories import post_request
from tests.orders.factories import TONNE

BASE = "/api/v1/matching/"


def proposed(market):
    post_request(market)  # 20 t at most 1,700,000 XOF per tonne; listings ask 1,500,000
    (proposal_id,) = services.matching_rematch(
        commodity_id=market.grade_1.commodity_id, currency="XOF"
    ).proposals_created
    part_a = ProposalPart.objects.get(proposal_id=proposal_id, seller=market.coop_a.organisation)
    part_b = ProposalPart.objects.get(proposal_id=proposal_id, seller=market.coop_b.organisation)
    return proposal_id, part_a, part_b


def line_of(consignment, seller) -> OrderLine:
    return OrderLine.objects.get(order__purchase=consignment.purchase, order__seller=seller)


def test_a_cooperative_price_counter_is_what_its_order_charges(market):
    proposal_id, part_a, part_b = proposed(market)
    before = Proposal.objects.get(pk=proposal_id).expires_at
    services.proposal_part_counter(actor=market.coop_b.manager, part_id=part_b.pk, price_per_tonne_minor=1_600_000)
    proposal = Proposal.objects.get(pk=proposal_id)
    part_b.refresh_from_db()
    assert proposal.round == 2 and proposal.expires_at > before
    assert part_b.status == "countered" and part_b.price_per_tonne_minor == 1_600_000
    assert part_b.grams == 8 * TONNE  # the quantity is unchanged
    assert part_b.surplus_per_tonne_minor == 1_700_000 - 1_600_000 - part_b.transport_per_tonne_minor
    event = AuditEvent.objects.filter(subject_id=str(part_b.pk), to_status="countered").get()
    assert event.data["price_per_tonne_minor"] == [1_500_000, 1_600_000]

    services.proposal_part_accept(actor=market.coop_a.manager, part_id=part_a.pk)
    services.proposal_accept(actor=market.buyer.manager, proposal_id=proposal_id)  # accepts the counter too
    consignment = Consignment.objects.get(proposal_id=proposal_id)
    line_b = line_of(consignment, market.coop_b.organisation)
    assert (line_b.unit_price_amount, line_b.price_unit) == (1_600_000, "TNE")
    assert line_b.line_total_amount == 8 * 1_600_000
    assert Order.objects.get(pk=line_b.order_id).total_amount == 8 * 1_600_000
    line_a = line_of(consignment, market.coop_a.organisation)  # not countered: the listing's own price
    assert (line_a.unit_price_amount, line_a.price_unit, line_a.line_total_amount) == (1_500, "KGM", 12 * 1_500_000)


def test_a_buyer_price_counter_waits_for_the_cooperative_then_is_charged(market):
    proposal_id, part_a, part_b = proposed(market)
    services.proposal_counter(actor=market.buyer.manager, proposal_id=proposal_id, part_id=part_a.pk,
                              price_per_tonne_minor=1_450_000, grams=11 * TONNE)  # fmt: skip
    part_a.refresh_from_db()
    assert (part_a.status, part_a.price_per_tonne_minor, part_a.grams) == ("pending", 1_450_000, 11 * TONNE)
    services.proposal_part_accept(actor=market.coop_a.manager, part_id=part_a.pk)
    services.proposal_part_accept(actor=market.coop_b.manager, part_id=part_b.pk)
    assert not Consignment.objects.exists()
    services.proposal_accept(actor=market.buyer.manager, proposal_id=proposal_id)
    line_a = line_of(Consignment.objects.get(proposal_id=proposal_id), market.coop_a.organisation)
    assert (line_a.unit_price_amount, line_a.quantity, line_a.line_total_amount) == (1_450_000, 11 * TONNE,
                                                                                     11 * 1_450_000)  # fmt: skip


@pytest.mark.parametrize(
    ("price", "message"),
    [(0, "above 0"), (-5, "above 0"), (True, "above 0"), ("1500000", "above 0"), (1.5, "above 0"),
     (1_700_001, "at most 1700000")],
)  # fmt: skip
def test_bad_prices_are_refused_and_use_no_round(market, price, message):
    proposal_id, part_a, part_b = proposed(market)
    with pytest.raises(ValidationFailed, match=message):
        services.proposal_part_counter(actor=market.coop_b.manager, part_id=part_b.pk, price_per_tonne_minor=price)
    with pytest.raises(ValidationFailed, match=message):
        services.proposal_counter(actor=market.buyer.manager, proposal_id=proposal_id, part_id=part_a.pk,
                                  price_per_tonne_minor=price)  # fmt: skip
    assert Proposal.objects.get(pk=proposal_id).round == 1
    part_b.refresh_from_db()
    assert (part_b.status, part_b.price_per_tonne_minor) == ("pending", 1_500_000)


def test_a_counter_needs_a_quantity_or_a_price(market):
    proposal_id, _part_a, part_b = proposed(market)
    with pytest.raises(ValidationFailed, match="another price"):
        services.proposal_part_counter(actor=market.coop_b.manager, part_id=part_b.pk)
    assert Proposal.objects.get(pk=proposal_id).round == 1


def test_price_counters_share_the_three_rounds_and_each_round_expires(market):
    proposal_id, _part_a, part_b = proposed(market)
    services.proposal_part_counter(actor=market.coop_b.manager, part_id=part_b.pk, price_per_tonne_minor=1_650_000)
    services.proposal_counter(actor=market.buyer.manager, proposal_id=proposal_id, part_id=part_b.pk,
                              price_per_tonne_minor=1_550_000)  # fmt: skip
    assert Proposal.objects.get(pk=proposal_id).round == 3
    with pytest.raises(DomainError, match="at most 2 times"):
        services.proposal_part_counter(actor=market.coop_b.manager, part_id=part_b.pk, price_per_tonne_minor=1_600_000)
    Proposal.objects.filter(pk=proposal_id).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    with pytest.raises(DomainError, match="expired"):
        services.proposal_part_accept(actor=market.coop_b.manager, part_id=part_b.pk)
    part_b.refresh_from_db()
    assert part_b.price_per_tonne_minor == 1_550_000


def test_accepted_parts_cannot_be_countered_and_strangers_cannot_counter(market):
    proposal_id, part_a, part_b = proposed(market)
    services.proposal_part_accept(actor=market.coop_a.manager, part_id=part_a.pk)
    with pytest.raises(DomainError, match="accepted this part"):
        services.proposal_counter(actor=market.buyer.manager, proposal_id=proposal_id, part_id=part_a.pk,
                                  price_per_tonne_minor=1_400_000)  # fmt: skip
    with pytest.raises(NotFound):
        services.proposal_part_counter(actor=market.coop_a.manager, part_id=part_b.pk, price_per_tonne_minor=1)
    with pytest.raises(NotFound):
        services.proposal_counter(actor=market.stranger_buyer.manager, proposal_id=proposal_id, part_id=part_b.pk,
                                  price_per_tonne_minor=1_400_000)  # fmt: skip
    part_b.refresh_from_db()
    assert part_b.price_per_tonne_minor == 1_500_000


def test_price_counters_through_the_api(market, as_user):
    proposal_id, _part_a, part_b = proposed(market)
    coop_b = as_user(market.coop_b.manager)
    assert coop_b.post(f"{BASE}parts/{part_b.pk}/counter/", {}, format="json").status_code == 400
    for bad in (0, -1, "x", 10**13):
        answer = coop_b.post(f"{BASE}parts/{part_b.pk}/counter/", {"price_per_tonne_minor": bad}, format="json")
        assert answer.status_code == 400 and "price_per_tonne_minor" in str(answer.json())
    answer = coop_b.post(f"{BASE}parts/{part_b.pk}/counter/", {"price_per_tonne_minor": 1_800_000}, format="json")
    assert answer.status_code == 400 and "at most" in str(answer.json())
    assert (
        as_user(market.stranger_coop.manager)
        .post(f"{BASE}parts/{part_b.pk}/counter/", {"price_per_tonne_minor": 1_600_000}, format="json")
        .status_code
        == 404
    )
    assert (
        as_user(market.stranger_buyer.manager)
        .post(
            f"{BASE}proposals/{proposal_id}/counter/",
            {"price_per_tonne_minor": 1_600_000, "part": part_b.pk},
            format="json",
        )
        .status_code
        == 404
    )
    answer = as_user(market.coop_b.manager).post(
        f"{BASE}parts/{part_b.pk}/counter/", {"price_per_tonne_minor": 1_600_000}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    answer = as_user(market.buyer.manager).post(
        f"{BASE}proposals/{proposal_id}/counter/",
        {"price_per_tonne_minor": 1_550_000, "part": part_b.pk},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    part_b.refresh_from_db()
    assert (part_b.status, part_b.price_per_tonne_minor) == ("pending", 1_550_000)
    listed = as_user(market.buyer.manager).get(f"{BASE}proposals/{proposal_id}/").json()
    assert {p["price_per_tonne_minor"] for p in listed["parts"]} == {1_500_000, 1_550_000}


def test_price_counter_on_the_page(market, client):
    proposal_id, _part_a, part_b = proposed(market)
    client.force_login(market.coop_b.manager)
    url = f"/matching/proposals/{proposal_id}/counter/"
    assert client.post(url, {"part": part_b.pk, "price": "lots"}).status_code == 400
    assert client.post(url, {"part": part_b.pk, "price": "nan"}).status_code == 400
    assert client.post(url, {"part": part_b.pk, "price": "1800000"}).status_code == 400  # above the buyer's highest
    assert client.post(url, {"part": part_b.pk, "price": "1 600 000"}).status_code == 302
    part_b.refresh_from_db()
    assert (part_b.status, part_b.price_per_tonne_minor) == ("countered", 1_600_000)


# --- The purchase service's agreed prices (only matching passes them) ------------------------------


def test_agreed_prices_are_checked_by_the_purchase_service(market):
    buyer = market.buyer
    line = LineInput(quantity=2 * TONNE, listing_id=market.listing_a.pk)
    for agreed, message in [
        ({market.listing_b.pk: 1_000}, "not a line"),
        ({market.listing_a.pk: 0}, "whole number"),
        ({market.listing_a.pk: True}, "whole number"),
        ({market.listing_a.pk: "900"}, "whole number"),
        ({market.listing_a.pk: 10**10}, "whole number"),
        ([1], "listing id -> minor units"),
    ]:
        with pytest.raises(ValidationFailed, match=message):
            purchase_place(actor=buyer.manager, buyer_id=buyer.organisation.pk, lines=[line], agreed_prices=agreed)
    graded = LineInput(quantity=2 * TONNE, listing_id=market.listing_a.pk, grade_prices={market.grade_2.pk: 1_300})
    with pytest.raises(ValidationFailed, match="no grade prices"):
        purchase_place(actor=buyer.manager, buyer_id=buyer.organisation.pk, lines=[graded],
                       agreed_prices={market.listing_a.pk: 1_400_000})  # fmt: skip
    assert not Order.objects.exists()
    purchase = purchase_place(actor=buyer.manager, buyer_id=buyer.organisation.pk, lines=[line],
                              agreed_prices={market.listing_a.pk: 1_400_000})  # fmt: skip
    order_line = OrderLine.objects.get(order__purchase=purchase)
    charged = (order_line.unit_price_amount, order_line.price_unit, order_line.line_total_amount)
    assert charged == (1_400_000, "TNE", 2_800_000)


def test_the_purchase_api_never_takes_an_agreed_price(market, as_user):
    answer = as_user(market.buyer.manager).post(
        "/api/v1/purchases/",
        {"organisation": market.buyer.organisation.pk, "agreed_prices": {str(market.listing_a.pk): 1},
         "lines": [{"listing": market.listing_a.pk, "quantity": 2 * TONNE, "agreed_price": 1}]},
        format="json",
    )  # fmt: skip
    assert answer.status_code in (201, 400), answer.json()
    line = OrderLine.objects.filter(listing=market.listing_a).first()
    assert line is None or (line.unit_price_amount, line.line_total_amount) == (1_500, 3_000_000)
