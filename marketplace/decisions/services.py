"""Writes for member decisions (house rule 1): create, open, vote, count hands, close with the result, cancel."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from marketplace.core import outbox
from marketplace.core.errors import Conflict, NotFound, ValidationFailed
from marketplace.core.services import audit_record
from marketplace.core.transitions import TransitionTable, transition
from marketplace.decisions import gates
from marketplace.decisions.models import (
    Channel,
    Decision,
    DecisionDefaults,
    DecisionOption,
    Eligibility,
    Kind,
    Participation,
    SecretBallot,
    ShowOfHands,
    Vote,
)
from marketplace.decisions.selectors import organisation_ids_with, tally
from marketplace.organisations.models import MemberFarmer, Organisation, User
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import organisation_for

S = Decision.Status
DECISION_TRANSITIONS = TransitionTable(
    "decision",
    {
        S.DRAFT: {S.OPEN, S.CANCELLED},
        S.OPEN: {S.CLOSED, S.CANCELLED},
        S.CLOSED: set(),
        S.CANCELLED: set(),
    },
)
MAX_OPTIONS = 20
MAX_DAYS_OPEN = 120
DEFAULT_NOTICE_DAYS = 15


@dataclass(frozen=True)
class DecisionInput:
    kind: str
    question: str
    options: Sequence[str]
    opens_at: datetime
    closes_at: datetime
    description: str = ""
    subject: str = ""
    meeting_at: datetime | None = None
    quorum_bp: int | None = None
    threshold_bp: int | None = None
    anonymous: bool | None = None
    results_before_close: bool = False


def _fail(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationFailed(" ".join(errors.values()), fields=errors)


def defaults_for(organisation: Organisation, kind: str) -> DecisionDefaults:
    found = DecisionDefaults.objects.filter(organisation=organisation, kind=kind).first()
    return found or DecisionDefaults(organisation=organisation, kind=kind)


def _check(data: DecisionInput, defaults: DecisionDefaults, now: datetime) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.kind not in Kind.values:
        errors["kind"] = f"Choose one of: {', '.join(Kind.values)}."
    if not data.question.strip() or len(data.question) > 300:
        errors["question"] = "Ask the question in 1 to 300 characters."
    labels = [label.strip() for label in data.options]
    if len(labels) < 2 or len(labels) > MAX_OPTIONS or not all(labels) or any(len(lb) > 120 for lb in labels):
        errors["options"] = f"Give 2 to {MAX_OPTIONS} options of 1 to 120 characters each."
    elif len({label.casefold() for label in labels}) != len(labels):
        errors["options"] = "Each option must be different."
    if data.closes_at <= data.opens_at:
        errors["closes_at"] = "The vote must close after it opens."
    elif data.closes_at - data.opens_at > timedelta(days=MAX_DAYS_OPEN):
        errors["closes_at"] = f"A vote stays open at most {MAX_DAYS_OPEN} days."
    if data.closes_at <= now:
        errors["closes_at"] = "The closing time is in the past."
    for name in ("quorum_bp", "threshold_bp"):
        value = getattr(data, name)
        if value is not None and not (0 if name == "quorum_bp" else 1) <= value <= 10000:
            errors[name] = "Give a share between 0 and 10,000 basis points (100 %)."
    if data.kind == Kind.ASSEMBLY:
        notice = timedelta(days=defaults.notice_days)
        if data.meeting_at is None:
            errors["meeting_at"] = "An assembly needs its date."
        elif data.meeting_at < now + notice:
            errors["meeting_at"] = (
                f"Members must be called at least {defaults.notice_days} days ahead: set the assembly on or after "
                f"{(now + notice):%d %B %Y}."
            )
        if not data.description.strip():
            errors["description"] = "An assembly notice needs its agenda."
    if data.kind in gates.GATED_KINDS and not gates.parse_subject(data.subject):
        errors["subject"] = "Name the action this vote decides, e.g. proposal_part:12 or group_order:5."
    return errors


@transaction.atomic
def decision_create(*, actor: User, organisation_id: int, data: DecisionInput) -> Decision:
    """A draft decision of a cooperative (a manager). Unset quorum, threshold and secrecy take its defaults."""
    organisation = organisation_for(viewer=actor, organisation_id=organisation_id, capability=Capability.DECIDE)
    if organisation.kind != Organisation.Kind.COOPERATIVE:
        raise ValidationFailed("Only a cooperative puts decisions to its members.")
    defaults = defaults_for(organisation, data.kind)
    _fail(_check(data, defaults, timezone.now()))
    if data.kind in gates.GATED_KINDS:
        gates.check_subject(organisation=organisation, kind=data.kind, subject=data.subject)
    decision = Decision.objects.create(
        organisation=organisation,
        kind=data.kind,
        question=data.question.strip(),
        description=data.description.strip(),
        subject=data.subject.strip(),
        opens_at=data.opens_at,
        closes_at=data.closes_at,
        meeting_at=data.meeting_at,
        quorum_bp=defaults.quorum_bp if data.quorum_bp is None else data.quorum_bp,
        threshold_bp=defaults.threshold_bp if data.threshold_bp is None else data.threshold_bp,
        anonymous=defaults.anonymous if data.anonymous is None else data.anonymous,
        results_before_close=data.results_before_close,
        created_by=actor,
    )
    DecisionOption.objects.bulk_create(
        DecisionOption(decision=decision, position=i, label=label.strip(), approves=(i == 1))
        for i, label in enumerate(data.options, start=1)
    )
    audit_record(actor=actor, action="decision.created", subject=decision, organisation_id=organisation.pk,
                 to_status=decision.status, data={"kind": decision.kind, "anonymous": decision.anonymous})  # fmt: skip
    return decision


def _scoped(actor: User | None, capability: Capability):
    """The decisions the actor may act on (the system: all)."""
    if actor is None:
        return Decision.objects.all()
    return Decision.objects.filter(organisation_id__in=organisation_ids_with(actor, capability))


def _open(decision: Decision) -> dict:
    farmers = MemberFarmer.objects.filter(organisation_id=decision.organisation_id, status=MemberFarmer.Status.ACTIVE)
    rows = [Eligibility(decision=decision, farmer_id=pk) for pk in farmers.values_list("pk", flat=True)]
    Eligibility.objects.bulk_create(rows)
    decision.eligible_count = len(rows)
    from marketplace.decisions.tasks import decision_notice_send

    outbox.enqueue(decision_notice_send, args=[decision.pk, "opened"], key=f"decision-opened:{decision.pk}")
    return {"eligible": len(rows)}


@transaction.atomic
def decision_transition(*, actor: User | None, decision_id: int, to_status: str, reason: str = "") -> Decision:
    """Open (snapshots who may vote, tells them by SMS), close (counts, once) or cancel a decision."""
    if to_status == S.CLOSED:
        return decision_close(actor=actor, decision_id=decision_id)
    queryset = _scoped(actor, Capability.DECIDE)

    def apply(decision: Decision) -> dict | None:
        if to_status == S.CANCELLED and not reason.strip():
            raise ValidationFailed("Say why the vote is cancelled.", fields={"reason": "Required."})
        return _open(decision) if to_status == S.OPEN else None

    decision = Decision.objects.filter(pk=decision_id).first()
    return transition(
        model=Decision, pk=decision_id, table=DECISION_TRANSITIONS, to_status=to_status, actor=actor, reason=reason,
        organisation_id=decision.organisation_id if decision else None, apply=apply, queryset=queryset,
        label="The decision",
    )  # fmt: skip


def voter_key(decision_id: int, farmer_id: int) -> str:
    message = f"decision:{decision_id}:member:{farmer_id}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _lock_open(decision_id: int, queryset) -> Decision:
    decision = queryset.select_for_update().filter(pk=decision_id).first()
    if decision is None:
        raise NotFound("No such decision.")
    now = timezone.now()
    if decision.status != S.OPEN or now >= decision.closes_at:
        raise Conflict(
            f"Voting on “{decision.question}” closed on {decision.closes_at:%d %B %Y at %H:%M} UTC; "
            "no vote is taken after closing."
            if now >= decision.closes_at or decision.status == S.CLOSED
            else "This vote is not open."
        )
    return decision


def vote_cast(
    *, actor: User | None, decision_id: int, farmer_id: int, option_id: int, channel: str = Channel.ASSEMBLY
) -> None:
    """Record a member's vote; a later vote before closing replaces the earlier one. `actor` is the clerk who
    records it at the assembly, or None when the member votes by phone (the channel has checked the member)."""
    with transaction.atomic():
        decision = _lock_open(decision_id, _scoped(actor, Capability.RECORD))
        if not Eligibility.objects.filter(decision=decision, farmer_id=farmer_id).exists():
            raise ValidationFailed(
                "This member may not vote in this decision: only the members active when it opened may.",
                fields={"farmer": "Not on the list of voters."},
            )
        option = DecisionOption.objects.filter(decision=decision, pk=option_id).first()
        if option is None:
            raise ValidationFailed("Choose one of this decision's options.", fields={"option": "Not an option."})
        now = timezone.now()
        if decision.anonymous:
            SecretBallot.objects.update_or_create(
                decision=decision, voter_key=voter_key(decision.pk, farmer_id), defaults={"option": option}
            )
            Participation.objects.update_or_create(
                decision=decision, farmer_id=farmer_id, defaults={"channel": channel, "recorded_by": actor}
            )
            data = {"channel": channel}  # never the choice
        else:
            Vote.objects.update_or_create(
                decision=decision, farmer_id=farmer_id,
                defaults={"option": option, "channel": channel, "recorded_by": actor, "cast_at": now},
            )  # fmt: skip
            data = {"channel": channel, "farmer": farmer_id, "option": option.pk}
        _check_hands_fit(decision)
        audit_record(actor=actor, action="decision.vote", subject=decision, organisation_id=decision.organisation_id,
                     data=data)  # fmt: skip


def _individual_votes(decision: Decision) -> int:
    model = Participation if decision.anonymous else Vote
    return model.objects.filter(decision=decision).count()


def _check_hands_fit(decision: Decision) -> None:
    hands = ShowOfHands.objects.filter(decision=decision).aggregate(total=Sum("count"))["total"] or 0
    if hands + _individual_votes(decision) > decision.eligible_count:
        raise Conflict(
            f"{hands + _individual_votes(decision)} votes would be more than the {decision.eligible_count} members "
            "who may vote; count only the members present who did not vote by phone."
        )


@transaction.atomic
def show_of_hands_record(*, actor: User, decision_id: int, counts: dict[int, int]) -> None:
    """A clerk records the votes counted at the meeting (members present who did not vote by phone), per option;
    recording again replaces the earlier count."""
    decision = _lock_open(decision_id, _scoped(actor, Capability.RECORD))
    options = {option.pk: option for option in decision.options.all()}
    errors = {}
    for option_id, count in counts.items():
        if option_id not in options:
            errors[f"option_{option_id}"] = "Not an option of this decision."
        elif isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 1_000_000:
            errors[f"option_{option_id}"] = "Give a whole number of votes, 0 or more."
    _fail(errors)
    for option_id, count in counts.items():
        ShowOfHands.objects.update_or_create(
            decision=decision, option=options[option_id], defaults={"count": count, "recorded_by": actor}
        )
    _check_hands_fit(decision)
    recorded = {str(option_id): count for option_id, count in counts.items()}
    audit_record(actor=actor, action="decision.show_of_hands", subject=decision,
                 organisation_id=decision.organisation_id, data={"counts": recorded})  # fmt: skip


def _close(decision: Decision) -> dict:
    counts = tally(decision)
    cast = sum(counts.values())
    decision.votes_cast = cast
    decision.quorum_met = cast * 10000 >= decision.quorum_bp * decision.eligible_count and cast > 0
    winner = None
    if decision.quorum_met:
        best_id, best = max(counts.items(), key=lambda item: (item[1], -item[0]))
        tied = [pk for pk, n in counts.items() if n == best]
        if len(tied) == 1 and best * 10000 >= decision.threshold_bp * cast:
            winner = decision.options.get(pk=best_id)
    decision.winning_option = winner
    if not decision.quorum_met:
        decision.outcome = f"No decision: {cast} of {decision.eligible_count} members voted, below the quorum."
    elif winner is None:
        decision.outcome = "No decision: no option reached the threshold of the votes cast."
    else:
        decision.outcome = f"Decided: {winner.label}."
    decision.gate_result = gates.take(decision, approved=bool(winner and winner.approves))
    from marketplace.decisions.tasks import decision_notice_send

    outbox.enqueue(decision_notice_send, args=[decision.pk, "closed"], key=f"decision-closed:{decision.pk}")
    return {"counts": {str(k): v for k, v in counts.items()}, "votes_cast": cast, "quorum_met": decision.quorum_met,
            "winner": winner.pk if winner else None, "gate": decision.gate_result}  # fmt: skip


def decision_close(*, actor: User | None, decision_id: int) -> Decision:
    """Count the votes once and record the result; take or refuse the gated action through its own service."""
    with transaction.atomic():
        found = Decision.objects.filter(pk=decision_id).first()
        return transition(
            model=Decision, pk=decision_id, table=DECISION_TRANSITIONS, to_status=S.CLOSED, actor=actor,
            organisation_id=found.organisation_id if found else None, apply=_close,
            queryset=_scoped(actor, Capability.DECIDE), label="The decision",
        )  # fmt: skip


def decisions_due() -> dict[str, int]:
    """Beat: open drafts whose time has come, close open decisions past their closing time, remind a day before."""
    now = timezone.now()
    opened = closed = reminded = 0
    for pk in Decision.objects.filter(status=S.DRAFT, opens_at__lte=now, closes_at__gt=now).values_list(
        "pk", flat=True
    ):
        try:
            decision_transition(actor=None, decision_id=pk, to_status=S.OPEN)
            opened += 1
        except (Conflict, IntegrityError):
            pass
    for pk in Decision.objects.filter(status=S.OPEN, closes_at__lte=now).values_list("pk", flat=True):
        try:
            decision_close(actor=None, decision_id=pk)
            closed += 1
        except Conflict:  # closed meanwhile by another run
            pass
    soon = Decision.objects.filter(status=S.OPEN, reminded_at__isnull=True, closes_at__lte=now + timedelta(days=1))
    for pk in soon.values_list("pk", flat=True):
        with transaction.atomic():
            if Decision.objects.filter(pk=pk, reminded_at__isnull=True).update(reminded_at=now):
                from marketplace.decisions.tasks import decision_notice_send

                outbox.enqueue(decision_notice_send, args=[pk, "reminder"], key=f"decision-reminder:{pk}")
                reminded += 1
    return {"opened": opened, "closed": closed, "reminded": reminded}
