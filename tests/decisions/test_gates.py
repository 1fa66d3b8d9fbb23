"""Actions the members' vote gates, through the actions' own services: submitting a group input order, accepting a
large buyer's order for the cooperative's lots. A cooperative's defaults require the vote from a size; the orders
app consults the decisions app through `settings.ORDER_ACTION_GUARDS` (it cannot import it)."""

import datetime

import pytest
from django.utils import timezone

from marketplace.core.errors import Conflict, ValidationFailed
from marketplace.core.models import AuditEvent
from marketplace.decisions import services
from marketplace.decisions.models import DecisionDefaults
from orders.group_models import GroupOrder
from orders.models import Order
from orders.services import group_windows, order_transition
from orders.services.group_orders import group_order_transition, window_place_orders
from tests.factories import MemberFarmerFactory
from tests.orders.factories import TONNE, make_world, place
from tests.orders.group_factories import ask, make_group_world

pytestmark = pytest.mark.django_db


def vote(decision, clerk, farmers, position: int) -> None:
    option = decision.options.get(position=position)
    for farmer in farmers:
        services.vote_cast(actor=clerk, decision_id=decision.pk, farmer_id=farmer.pk, option_id=option.pk)


def gated(manager, coop, kind: str, subject: str, **changes):
    now = timezone.now()
    decision = services.decision_create(
        actor=manager, organisation_id=coop.pk,
        data=services.DecisionInput(
            kind=kind, subject=subject, question=f"Go ahead with {subject}?", options=["Yes", "No"],
            opens_at=now - datetime.timedelta(minutes=1), closes_at=now + datetime.timedelta(days=2),
            quorum_bp=changes.pop("quorum_bp", 5000), threshold_bp=5001, **changes,
        ),
    )  # fmt: skip
    return services.decision_transition(actor=manager, decision_id=decision.pk, to_status="open")


@pytest.fixture
def draft_group_order():
    world = make_group_world(farmers=6)
    npk, _urea = world.products
    for farmer in world.farmers:
        ask(world, farmer, npk, 100_000)
    group_windows.window_transition(actor=world.manager, window_id=world.window.pk, to_status="closed")
    group_order = window_place_orders(actor=world.manager, window_id=world.window.pk)[0]
    return world, group_order


def test_a_required_vote_holds_the_group_order_until_the_members_approve_it(draft_group_order):
    world, group_order = draft_group_order
    DecisionDefaults.objects.create(organisation=world.coop, kind="group_order", vote_above_amount=0)
    with pytest.raises(Conflict) as refused:
        group_order_transition(actor=world.manager, group_order_id=group_order.pk, to_status="submitted")
    assert refused.value.code == "vote_required" and f"group_order:{group_order.pk}" in refused.value.message
    decision = gated(world.manager, world.coop, "group_order", f"group_order:{group_order.pk}")
    with pytest.raises(Conflict) as pending:
        group_order_transition(actor=world.manager, group_order_id=group_order.pk, to_status="submitted")
    assert pending.value.code == "vote_pending"
    vote(decision, world.clerk, world.farmers[:4], 1)
    vote(decision, world.clerk, world.farmers[4:5], 2)
    closed = services.decision_close(actor=None, decision_id=decision.pk)
    assert closed.outcome == "Decided: Yes."
    assert closed.gate_result == f"The members approved group order {group_order.reference}: it was submitted to " \
                                 "the supplier."  # fmt: skip
    group_order.refresh_from_db()
    assert group_order.status == "submitted" and group_order.respond_by is not None
    assert AuditEvent.objects.filter(action="group_order.submitted", actor=world.manager).exists()
    assert AuditEvent.objects.filter(action="decision.gate").count() == 1


def test_a_group_order_vote_that_misses_its_quorum_cancels_the_order(draft_group_order):
    world, group_order = draft_group_order
    decision = gated(world.manager, world.coop, "group_order", f"group_order:{group_order.pk}", quorum_bp=5000)
    vote(decision, world.clerk, world.farmers[:2], 1)  # 2 of 6 members: below half
    closed = services.decision_close(actor=None, decision_id=decision.pk)
    assert closed.quorum_met is False
    assert closed.gate_result == f"The members did not approve group order {group_order.reference}: it was " \
                                 "cancelled."  # fmt: skip
    group_order.refresh_from_db()
    assert group_order.status == "cancelled"
    reason = AuditEvent.objects.get(action="group_order.cancelled").reason
    assert reason.startswith(f"The members did not approve it (decision {decision.pk}: No decision: 2 of 6")


def test_a_group_order_below_the_cooperatives_size_needs_no_vote(draft_group_order):
    world, group_order = draft_group_order
    DecisionDefaults.objects.create(organisation=world.coop, kind="group_order",
                                    vote_above_amount=group_order.total_amount + 1)  # fmt: skip
    group_order_transition(actor=world.manager, group_order_id=group_order.pk, to_status="submitted")
    assert GroupOrder.objects.get(pk=group_order.pk).status == "submitted"


def test_only_a_draft_group_order_of_the_cooperative_can_be_put_to_a_vote(draft_group_order):
    world, group_order = draft_group_order
    other, other_order = make_group_world(farmers=1), None
    with pytest.raises(ValidationFailed, match="has no group_order"):
        gated(other.manager, other.coop, "group_order", f"group_order:{group_order.pk}")
    group_order_transition(actor=world.manager, group_order_id=group_order.pk, to_status="submitted")
    with pytest.raises(ValidationFailed, match="waiting for an answer"):
        gated(world.manager, world.coop, "group_order", f"group_order:{group_order.pk}")
    with pytest.raises(ValidationFailed, match="write group_order:<id>"):
        gated(world.manager, world.coop, "group_order", "proposal_part:1")
    assert other_order is None


@pytest.fixture
def big_order():
    world = make_world()
    farmers = [MemberFarmerFactory(organisation=world.seller.organisation) for _ in range(4)]
    DecisionDefaults.objects.create(organisation=world.seller.organisation, kind="proposal", vote_above_kg=5000)
    return world, farmers, place(world, 6 * TONNE)


def test_a_large_buyer_order_is_accepted_only_after_the_members_vote_for_it(big_order):
    world, farmers, order = big_order
    small = place(world, 2 * TONNE)
    order_transition(actor=world.seller.manager, order_id=small.pk, to_status="accepted")  # below 5 t: no vote
    with pytest.raises(Conflict) as refused:
        order_transition(actor=world.seller.manager, order_id=order.pk, to_status="accepted")
    assert refused.value.code == "vote_required"
    assert Order.objects.get(pk=order.pk).status == "placed"
    decision = gated(world.seller.manager, world.seller.organisation, "proposal", f"order:{order.pk}", quorum_bp=2500)
    vote(decision, world.seller.clerk, farmers[:3], 1)
    closed = services.decision_close(actor=world.seller.manager, decision_id=decision.pk)
    assert closed.gate_result == f"The members accepted order {order.number}."
    assert Order.objects.get(pk=order.pk).status == "accepted"


def test_a_large_buyer_order_the_members_vote_against_is_rejected(big_order):
    world, farmers, order = big_order
    decision = gated(world.seller.manager, world.seller.organisation, "proposal", f"order:{order.pk}", quorum_bp=2500)
    vote(decision, world.seller.clerk, farmers[:1], 1)
    vote(decision, world.seller.clerk, farmers[1:3], 2)
    closed = services.decision_close(actor=None, decision_id=decision.pk)
    assert closed.outcome == "Decided: No."
    assert closed.gate_result == f"The members did not accept order {order.number}: it was rejected."
    assert Order.objects.get(pk=order.pk).status == "rejected"
    with pytest.raises(Conflict):  # and it cannot be accepted around the vote
        order_transition(actor=world.seller.manager, order_id=order.pk, to_status="accepted")


def test_a_gate_the_action_refuses_is_recorded_not_raised(big_order):
    world, farmers, order = big_order
    decision = gated(world.seller.manager, world.seller.organisation, "proposal", f"order:{order.pk}", quorum_bp=2500)
    vote(decision, world.seller.clerk, farmers[:3], 1)
    order_transition(actor=world.buyer.manager, order_id=order.pk, to_status="cancelled", reason="Changed plans")
    closed = services.decision_close(actor=None, decision_id=decision.pk)
    assert closed.status == "closed" and closed.gate_result.startswith("Could not be done: ")


def test_one_pending_vote_per_action(draft_group_order):
    world, group_order = draft_group_order
    first = gated(world.manager, world.coop, "group_order", f"group_order:{group_order.pk}")
    with pytest.raises(ValidationFailed, match=f"already have a vote on group_order:{group_order.pk}"):
        gated(world.manager, world.coop, "group_order", f"group_order:{group_order.pk}")
    services.decision_transition(actor=world.manager, decision_id=first.pk, to_status="cancelled", reason="Wrong")
    gated(world.manager, world.coop, "group_order", f"group_order:{group_order.pk}")
