"""The actions a members' vote can gate, each taken through its own app's service by the manager who called the vote.

Registered when the decisions app is ready (`DecisionsConfig.ready`):

- `proposal_part:<id>`: the cooperative's part of a matching proposal, accepted or declined (matching);
- `group_order:<id>`: a draft group input order, submitted to its supplier or cancelled (orders);
- `order:<id>`: a buyer's produce order for the cooperative's lots, accepted or rejected (orders).
"""

from marketplace.decisions.gates import Gate, register
from marketplace.matching import services as matching
from marketplace.matching.models import ProposalPart
from orders.group_models import GroupOrder
from orders.models import Order
from orders.services import order_transition
from orders.services.group_orders import group_order_transition


def _part_exists(organisation_id: int, part_id: int) -> bool:
    return ProposalPart.objects.filter(pk=part_id, seller_id=organisation_id).exists()


def _accept_part(decision, part_id: int) -> str:
    matching.proposal_part_accept(actor=decision.created_by, part_id=part_id)
    return f"The members accepted the cooperative's part {part_id} of the proposal."


def _decline_part(decision, part_id: int) -> str:
    matching.proposal_part_decline(actor=decision.created_by, part_id=part_id, reason="The members voted against it.")
    return f"The members did not accept part {part_id}: it was declined."


def _why_not(decision) -> str:
    return f"The members did not approve it (decision {decision.pk}: {decision.outcome})"[:300]


def _group_order_exists(organisation_id: int, group_order_id: int) -> bool:
    return GroupOrder.objects.filter(
        pk=group_order_id, buyer_id=organisation_id, status=GroupOrder.Status.DRAFT
    ).exists()


def _submit_group_order(decision, group_order_id: int) -> str:
    group_order = group_order_transition(
        actor=decision.created_by, group_order_id=group_order_id, to_status=GroupOrder.Status.SUBMITTED,
        reason=f"Approved by the members (decision {decision.pk}).",
    )  # fmt: skip
    return f"The members approved group order {group_order.reference}: it was submitted to the supplier."


def _cancel_group_order(decision, group_order_id: int) -> str:
    group_order = group_order_transition(
        actor=decision.created_by, group_order_id=group_order_id, to_status=GroupOrder.Status.CANCELLED,
        reason=_why_not(decision),
    )  # fmt: skip
    return f"The members did not approve group order {group_order.reference}: it was cancelled."


def _order_exists(organisation_id: int, order_id: int) -> bool:
    return Order.objects.filter(
        pk=order_id, seller_id=organisation_id, kind=Order.Kind.PRODUCE, status=Order.Status.PLACED
    ).exists()


def _accept_order(decision, order_id: int) -> str:
    order = order_transition(actor=decision.created_by, order_id=order_id, to_status=Order.Status.ACCEPTED,
                             reason=f"Approved by the members (decision {decision.pk}).")  # fmt: skip
    return f"The members accepted order {order.number}."


def _reject_order(decision, order_id: int) -> str:
    order = order_transition(actor=decision.created_by, order_id=order_id, to_status=Order.Status.REJECTED,
                             reason=_why_not(decision))  # fmt: skip
    return f"The members did not accept order {order.number}: it was rejected."


def register_all() -> None:
    register("proposal_part", Gate(exists=_part_exists, approve=_accept_part, refuse=_decline_part))
    register("group_order", Gate(exists=_group_order_exists, approve=_submit_group_order, refuse=_cancel_group_order))
    register("order", Gate(exists=_order_exists, approve=_accept_order, refuse=_reject_order))
