"""The actions a members' vote can gate, each taken through its own app's service by the manager who called the vote.

Registered when the decisions app is ready (`DecisionsConfig.ready`).
"""

from marketplace.decisions.gates import Gate, register
from marketplace.matching import services as matching
from marketplace.matching.models import ProposalPart


def _part_exists(organisation_id: int, part_id: int) -> bool:
    return ProposalPart.objects.filter(pk=part_id, seller_id=organisation_id).exists()


def _accept_part(decision, part_id: int) -> str:
    matching.proposal_part_accept(actor=decision.created_by, part_id=part_id)
    return f"The members accepted the cooperative's part {part_id} of the proposal."


def _decline_part(decision, part_id: int) -> str:
    matching.proposal_part_decline(actor=decision.created_by, part_id=part_id, reason="The members voted against it.")
    return f"The members did not accept part {part_id}: it was declined."


def register_all() -> None:
    register("proposal_part", Gate(exists=_part_exists, approve=_accept_part, refuse=_decline_part))
