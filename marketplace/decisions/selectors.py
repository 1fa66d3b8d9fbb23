"""Reads for member decisions; every selector takes the viewer (house rule 2)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone

from marketplace.core.errors import NotFound
from marketplace.decisions.models import Decision, Eligibility, Participation, SecretBallot, ShowOfHands, Vote
from marketplace.organisations.models import Organisation, User
from marketplace.organisations.roles import ROLE_CAPABILITIES, Capability


def organisation_ids_with(viewer: User, capability: Capability) -> list[int]:
    if not viewer.is_authenticated:
        return []
    rows = viewer.memberships.filter(organisation__kind=Organisation.Kind.COOPERATIVE).values_list(
        "organisation_id", "role"
    )
    return [pk for pk, role in rows if capability in ROLE_CAPABILITIES[role]]


def decision_list(*, viewer: User, status: str | None = None) -> QuerySet[Decision]:
    decisions = Decision.objects.filter(organisation_id__in=organisation_ids_with(viewer, Capability.VIEW))
    if status:
        decisions = decisions.filter(status=status)
    return decisions.select_related("organisation", "winning_option")


def decision_get(*, viewer: User, decision_id) -> Decision:
    try:
        pk = int(decision_id)
    except (TypeError, ValueError):
        raise NotFound("No such decision.") from None
    decision = decision_list(viewer=viewer).prefetch_related("options").filter(pk=pk).first()
    if decision is None:
        raise NotFound("No such decision.")
    return decision


def decision_defaults(*, viewer: User, organisation_id) -> list:
    """The cooperative's defaults for every kind of decision (a kind never set shows the built-in defaults)."""
    from marketplace.decisions.models import DecisionDefaults, Kind

    try:
        pk = int(organisation_id)
    except (TypeError, ValueError):
        raise NotFound("No such cooperative.") from None
    if pk not in organisation_ids_with(viewer, Capability.VIEW):
        raise NotFound("No such cooperative.")
    saved = {row.kind: row for row in DecisionDefaults.objects.filter(organisation_id=pk)}
    return [saved.get(kind) or DecisionDefaults(organisation_id=pk, kind=kind) for kind in Kind.values]


def tally(decision: Decision) -> Counter:
    """Votes per option id: individual votes (or secret ballots) plus hands counted at the meeting."""
    counts: Counter = Counter()
    source = SecretBallot if decision.anonymous else Vote
    for option_id in source.objects.filter(decision=decision).values_list("option_id", flat=True):
        counts[option_id] += 1
    for option_id, count in ShowOfHands.objects.filter(decision=decision).values_list("option_id", "count"):
        counts[option_id] += count
    return counts


def age_group(birth_year: int | None, year: int) -> str:
    if not birth_year:
        return "unknown"
    age = year - birth_year
    return "youth (under 35)" if age < 35 else "35 and over"


@dataclass
class Results:
    visible: bool
    eligible: int
    voted: int
    per_option: list[tuple[str, int]] = field(default_factory=list)
    turnout_by_gender: dict[str, tuple[int, int]] = field(default_factory=dict)  # group -> (voted, eligible)
    turnout_by_age: dict[str, tuple[int, int]] = field(default_factory=dict)
    choice_by_gender: dict[str, dict[str, int]] = field(default_factory=dict)  # only for open-ballot decisions


def decision_results(*, viewer: User, decision_id) -> Results:
    """Counts and turnout by gender and age group, for the cooperative's staff; before closing only when the
    decision shows results early. An anonymous decision shows choices in total only, never per member group."""
    decision = decision_get(viewer=viewer, decision_id=decision_id)
    closed = decision.status == Decision.Status.CLOSED
    visible = closed or decision.results_before_close
    year = timezone.now().year
    eligible = list(Eligibility.objects.filter(decision=decision).values_list("farmer_id", "farmer__gender",
                                                                              "farmer__birth_year"))  # fmt: skip
    voters = set(
        (Participation if decision.anonymous else Vote).objects.filter(decision=decision).values_list("farmer_id",
                                                                                                      flat=True)
    )  # fmt: skip
    results = Results(visible=visible, eligible=len(eligible), voted=len(voters))
    by_gender: Counter = Counter()
    by_gender_voted: Counter = Counter()
    by_age: Counter = Counter()
    by_age_voted: Counter = Counter()
    for farmer_id, gender, birth_year in eligible:
        group = gender or "unknown"
        by_gender[group] += 1
        by_age[age_group(birth_year, year)] += 1
        if farmer_id in voters:
            by_gender_voted[group] += 1
            by_age_voted[age_group(birth_year, year)] += 1
    results.turnout_by_gender = {g: (by_gender_voted[g], n) for g, n in sorted(by_gender.items())}
    results.turnout_by_age = {g: (by_age_voted[g], n) for g, n in sorted(by_age.items())}
    if visible:
        counts = tally(decision)
        results.per_option = [(option.label, counts.get(option.pk, 0)) for option in decision.options.all()]
        if not decision.anonymous:
            choices: dict[str, Counter] = {}
            for gender, label in Vote.objects.filter(decision=decision).values_list("farmer__gender", "option__label"):
                choices.setdefault(gender or "unknown", Counter())[label] += 1
            results.choice_by_gender = {g: dict(c) for g, c in sorted(choices.items())}
    return results


def eligible_voters(*, viewer: User, decision_id) -> QuerySet:
    decision = decision_get(viewer=viewer, decision_id=decision_id)
    from marketplace.organisations.models import MemberFarmer

    return MemberFarmer.objects.filter(pk__in=Eligibility.objects.filter(decision=decision).values("farmer_id"))
