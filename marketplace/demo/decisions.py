"""Demo member decisions: for each cooperative, one vote closed with its result and one open for votes."""

from datetime import timedelta
from typing import TextIO

from django.utils import timezone

from marketplace.decisions import services
from marketplace.decisions.models import Decision
from marketplace.organisations.models import MemberFarmer, Membership, Organisation
from marketplace.organisations.roles import Capability, role_can

CLOSED = ("Adopt a cooperative levy of 2 % on member payouts for the 2026 season?", ["Yes", "No"])
OPEN = ("Which day should the collection point at the main warehouse open?", ["Tuesday", "Thursday", "Saturday"])


def _staff(organisation: Organisation, capability: Capability):
    memberships = Membership.objects.filter(organisation=organisation).select_related("user").order_by("user__email")
    return next((m.user for m in memberships if role_can(m.role, capability)), None)


def _vote(decision: Decision, clerk, members: list[MemberFarmer], pattern: list[int]) -> None:
    options = list(decision.options.all())
    for member, choice in zip(members, pattern, strict=False):
        services.vote_cast(
            actor=clerk, decision_id=decision.pk, farmer_id=member.pk, option_id=options[choice % len(options)].pk
        )


def seed(*, stdout: TextIO) -> None:
    made = []
    now = timezone.now()
    for coop in Organisation.objects.filter(kind=Organisation.Kind.COOPERATIVE).order_by("pk"):
        if Decision.objects.filter(organisation=coop).exists():
            continue
        manager, clerk = _staff(coop, Capability.DECIDE), _staff(coop, Capability.RECORD)
        if manager is None or clerk is None:
            continue
        members = list(MemberFarmer.objects.filter(organisation=coop, status="active").order_by("member_number"))
        for (question, options), close in ((CLOSED, True), (OPEN, False)):
            decision = services.decision_create(
                actor=manager, organisation_id=coop.pk,
                data=services.DecisionInput(
                    kind="motion", question=question, options=options, opens_at=now - timedelta(days=2),
                    closes_at=now + timedelta(days=12), quorum_bp=2500, threshold_bp=5001,
                ),
            )  # fmt: skip
            services.decision_transition(actor=manager, decision_id=decision.pk, to_status="open")
            voters = members[: (len(members) * 2) // 5 if close else len(members) // 5]
            _vote(decision, clerk, voters, [0, 0, 1, 0, 0, 1, 2] * (len(voters) // 7 + 1))
            if close:
                services.decision_close(actor=manager, decision_id=decision.pk)
            made.append(f"{coop.display_name or coop.legal_name}: {'closed' if close else 'open'}")
    stdout.write(f"decisions: {', '.join(made)}\n" if made else "decisions: nothing new\n")
