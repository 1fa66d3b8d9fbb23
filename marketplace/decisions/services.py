"""Writes for member decisions (house rule 1): create, open, vote, count hands, close with the result, cancel."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from marketplace.core import outbox
from marketplace.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from marketplace.core.services import audit_record
from marketplace.core.sms import send_sms
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
    PhoneVoteCode,
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
    closes_at: datetime | None = None  # None: opens_at + the cooperative's default duration for the kind
    description: str = ""
    subject: str = ""
    meeting_at: datetime | None = None
    quorum_bp: int | None = None
    threshold_bp: int | None = None
    anonymous: bool | None = None
    results_before_close: bool | None = None


def _fail(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationFailed(" ".join(errors.values()), fields=errors)


def defaults_for(organisation: Organisation, kind: str) -> DecisionDefaults:
    found = DecisionDefaults.objects.filter(organisation=organisation, kind=kind).first()
    return found or DecisionDefaults(organisation=organisation, kind=kind)


def _check(data: DecisionInput, defaults: DecisionDefaults, now: datetime) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.opens_at is None or data.closes_at is None:
        return {"opens_at": "Give the opening time."}
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
    if data.closes_at is None and data.opens_at is not None:
        try:
            data = replace(data, closes_at=data.opens_at + timedelta(days=defaults.duration_days))
        except OverflowError:
            raise ValidationFailed("The opening time is too far ahead.", fields={"opens_at": "Too late."}) from None
    _fail(_check(data, defaults, timezone.now()))
    if data.kind in gates.GATED_KINDS:
        gates.check_subject(organisation=organisation, kind=data.kind, subject=data.subject)
        pending = Decision.objects.filter(
            organisation=organisation, subject=data.subject.strip(), status__in=(S.DRAFT, S.OPEN)
        ).first()
        if pending is not None:
            raise ValidationFailed(
                gettext("The members already have a vote on %(subject)s (decision %(pk)s); cancel it first.")
                % {"subject": data.subject.strip(), "pk": pending.pk},
                fields={"subject": "A vote on it is pending."},
            )
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
        results_before_close=(
            defaults.results_before_close if data.results_before_close is None else data.results_before_close
        ),
        created_by=actor,
    )
    DecisionOption.objects.bulk_create(
        DecisionOption(decision=decision, position=i, label=label.strip(), approves=(i == 1))
        for i, label in enumerate(data.options, start=1)
    )
    audit_record(actor=actor, action="decision.created", subject=decision, organisation_id=organisation.pk,
                 to_status=decision.status, data={"kind": decision.kind, "anonymous": decision.anonymous})  # fmt: skip
    return decision


DEFAULT_BOUNDS = {
    "quorum_bp": (0, 10000, "Give the quorum between 0 and 10,000 basis points (100 %)."),
    "threshold_bp": (1, 10000, "Give the threshold between 1 and 10,000 basis points (100 %)."),
    "duration_days": (1, MAX_DAYS_OPEN, f"A vote stays open 1 to {MAX_DAYS_OPEN} days."),
    "notice_days": (1, 365, "Give a notice period of 1 to 365 days."),
    "vote_above_amount": (0, 10**15, "Give an amount of 0 or more (minor units), or leave it empty."),
    "vote_above_kg": (0, 10**9, "Give a number of kilograms, 0 or more, or leave it empty."),
}


@transaction.atomic
def decision_defaults_set(*, actor: User, organisation_id: int, kind: str, **values) -> DecisionDefaults:
    """A cooperative's managers set its defaults for a kind of decision: quorum and threshold (basis points),
    days open, secret ballot, results before closing, notice period, and for the kinds that gate an action, from
    what amount or weight the action needs the members' vote (empty: never required)."""
    organisation = organisation_for(viewer=actor, organisation_id=organisation_id, capability=Capability.DECIDE)
    if organisation.kind != Organisation.Kind.COOPERATIVE:
        raise ValidationFailed("Only a cooperative puts decisions to its members.")
    if kind not in Kind.values:
        raise ValidationFailed(
            gettext("Choose one of: %(choices)s.") % {"choices": ", ".join(Kind.values)},
            fields={"kind": "Unknown kind."},
        )
    allowed = {*DEFAULT_BOUNDS, "anonymous", "results_before_close"}
    errors = {name: "Not a setting." for name in values if name not in allowed}
    for name, (low, high, message) in DEFAULT_BOUNDS.items():
        value = values.get(name)
        if value is None:
            if name not in ("vote_above_amount", "vote_above_kg") and name in values:
                errors[name] = message
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[name] = message
    for name in ("anonymous", "results_before_close"):
        if name in values and not isinstance(values[name], bool):
            errors[name] = "Say yes or no."
    if kind not in gates.GATED_KINDS:
        for name in ("vote_above_amount", "vote_above_kg"):
            if values.get(name) is not None:
                errors[name] = "Only votes that approve an action (a group order, a buyer's order) have a size."
    if kind == Kind.GROUP_ORDER and values.get("vote_above_kg") is not None:
        errors["vote_above_kg"] = "A group input order is sized by its amount."
    _fail(errors)
    row = DecisionDefaults.objects.select_for_update().filter(organisation=organisation, kind=kind).first()
    row = row or DecisionDefaults(organisation=organisation, kind=kind)
    for name, value in values.items():
        setattr(row, name, value)
    row.save()
    audit_record(actor=actor, action="decision_defaults.set", subject=row, organisation_id=organisation.pk,
                 data={"kind": kind, **values})  # fmt: skip
    return row


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
    *, actor: User, decision_id: int, farmer_id: int, option_id: int, channel: str = Channel.ASSEMBLY
) -> None:
    """A clerk records a member's vote at the assembly; a later vote before closing replaces the earlier one.
    A member's own vote by phone goes through `phone_vote_confirm` (a one-time code sent to the member's phone)."""
    if actor is None:
        raise PermissionDenied("A vote by phone is confirmed with the code sent to the member's phone.")
    _vote_record(actor=actor, decision_id=decision_id, farmer_id=farmer_id, option_id=option_id, channel=channel)


def _vote_record(*, actor: User | None, decision_id: int, farmer_id: int, option_id: int, channel: str) -> None:
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
            gettext(
                "%(votes)s votes would be more than the %(eligible_count)s members who "
                "may vote; count only the members present who did not vote by phone."
            )
            % {"votes": hands + _individual_votes(decision), "eligible_count": decision.eligible_count}
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
    from marketplace.decisions.tasks import decision_notice_send

    outbox.enqueue(decision_notice_send, args=[decision.pk, "closed"], key=f"decision-closed:{decision.pk}")
    return {"counts": {str(k): v for k, v in counts.items()}, "votes_cast": cast, "quorum_met": decision.quorum_met,
            "winner": winner.pk if winner else None}  # fmt: skip


def decision_close(*, actor: User | None, decision_id: int) -> Decision:
    """Count the votes once and record the result; take or refuse the gated action through its own service."""
    with transaction.atomic():
        found = Decision.objects.filter(pk=decision_id).first()
        decision = transition(
            model=Decision, pk=decision_id, table=DECISION_TRANSITIONS, to_status=S.CLOSED, actor=actor,
            organisation_id=found.organisation_id if found else None, apply=_close,
            queryset=_scoped(actor, Capability.DECIDE), label="The decision",
        )  # fmt: skip
        # The gated action is taken once the result is saved, so the action's service (and the orders guard it
        # consults) sees the closed decision and its winner; a refusal by that service is recorded, not raised.
        if decision.kind in gates.GATED_KINDS:
            winner = decision.winning_option
            decision.gate_result = gates.take(decision, approved=bool(winner and winner.approves))[:300]
            decision.save(update_fields=["gate_result", "updated_at"])
            audit_record(actor=actor, action="decision.gate", subject=decision,
                         organisation_id=decision.organisation_id,
                         data={"subject": decision.subject, "result": decision.gate_result})  # fmt: skip
        return decision


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


# --- Votes by phone, confirmed by a one-time code sent to the member's phone ---------------------------------------


class CodeVerdict(StrEnum):
    OK = "ok"  # the vote is recorded
    MALFORMED = "malformed"  # not 6 digits: not counted as a try
    WRONG = "wrong"  # counted; tries left in `tries_left`
    EXHAUSTED = "exhausted"  # the last try was wrong, or the code was voided by wrong tries
    EXPIRED = "expired"
    USED = "used"  # this code confirmed a vote already
    NONE = "none"  # no code waiting for this member
    BAD_OPTION = "bad_option"  # the code is right but the choice is not one of the options (code kept)
    REFUSED = "refused"  # the vote itself was refused (closed meanwhile ...): `message`


@dataclass(frozen=True)
class CodeResult:
    verdict: CodeVerdict
    tries_left: int = 0
    decision: Decision | None = None
    option: DecisionOption | None = None
    message: str = ""


def _code_hash(salt: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"vote-code:{salt}:{code}".encode(), hashlib.sha256).hexdigest()


def _code_matches(row: PhoneVoteCode, code: str) -> bool:
    return hmac.compare_digest(row.code_hash, _code_hash(row.salt, code))


def _code_ttl() -> int:
    return int(getattr(settings, "VOTE_CODE_TTL_SECONDS", PhoneVoteCode.TTL_SECONDS))


def phone_vote_code_issue(*, decision_id: int, farmer_id: int) -> PhoneVoteCode:
    """Send a member a one-time code by SMS (to the member's phone on record) to confirm a vote by phone.

    The code is 6 random digits, stored as a keyed hash with its own salt, valid 10 minutes (VOTE_CODE_TTL_SECONDS);
    asking again voids the member's earlier codes; at most 5 codes per member an hour. The SMS goes through the
    project's SMS backend (the channels gateway: message log and outbox) in this transaction."""
    with transaction.atomic():
        farmer = (
            MemberFarmer.objects.select_for_update(of=("self",)).select_related("organisation").filter(pk=farmer_id)
        ).first()  # only the member's row: members of one cooperative ask for codes at once
        if farmer is None or not farmer.phone:
            raise NotFound("No such member with a phone.")
        decision = Decision.objects.filter(pk=decision_id, organisation_id=farmer.organisation_id).first()
        now = timezone.now()
        if decision is None:
            raise NotFound("No such decision.")
        if decision.status != S.OPEN or now >= decision.closes_at:
            raise Conflict("This vote is not open.", code="not_open")
        if not Eligibility.objects.filter(decision=decision, farmer_id=farmer_id).exists():
            raise ValidationFailed("This member may not vote in this decision.", fields={"farmer": "Not a voter."})
        recent = PhoneVoteCode.objects.filter(farmer_id=farmer_id, created_at__gte=now - timedelta(hours=1)).count()
        if recent >= PhoneVoteCode.MAX_PER_HOUR:
            raise Conflict("Too many codes asked for in the last hour; try again later.", code="too_many_codes")
        PhoneVoteCode.objects.filter(farmer_id=farmer_id, used_at__isnull=True, voided_at__isnull=True).update(
            voided_at=now
        )
        code = f"{secrets.randbelow(10**PhoneVoteCode.DIGITS):0{PhoneVoteCode.DIGITS}d}"
        salt = secrets.token_hex(16)
        row = PhoneVoteCode.objects.create(
            decision=decision, farmer=farmer, salt=salt, code_hash=_code_hash(salt, code),
            expires_at=now + timedelta(seconds=_code_ttl()),
        )  # fmt: skip
        language = farmer.language or farmer.organisation.preferred_language or settings.LANGUAGE_CODE
        with translation.override(language):
            body = _("%(code)s is your code to confirm your vote on “%(question)s”. Valid %(minutes)s minutes. "
                     "Never share it.") % {"code": code, "question": decision.question[:60],
                                           "minutes": _code_ttl() // 60}  # fmt: skip
        send_sms(to=str(farmer.phone), body=body)
        audit_record(actor=None, action="decision.vote_code", subject=decision,
                     organisation_id=decision.organisation_id, data={"farmer": farmer_id, "code": row.pk})  # fmt: skip
        return row


def phone_vote_confirm(*, farmer_id: int, code: str, option_number: int, decision_id: int | None = None) -> CodeResult:
    """Record a member's vote by phone once the code sent to the member's phone is entered: the member's latest code
    (for `decision_id` if given), not expired, not used, fewer than 3 wrong tries. `option_number` is the option's
    place in the decision's list (1, 2, ...). A wrong code counts a try (and commits); the third voids the code."""
    code = (code or "").strip()
    if not (len(code) == PhoneVoteCode.DIGITS and code.isascii() and code.isdigit()):
        return CodeResult(CodeVerdict.MALFORMED)
    with transaction.atomic():
        rows = PhoneVoteCode.objects.select_for_update().filter(farmer_id=farmer_id)
        if decision_id is not None:
            rows = rows.filter(decision_id=decision_id)
        row = rows.order_by("-created_at", "-pk").first()
        if row is None:
            return CodeResult(CodeVerdict.NONE)
        now = timezone.now()
        if row.used_at is not None:
            return CodeResult(CodeVerdict.USED if _code_matches(row, code) else CodeVerdict.NONE)
        if row.voided_at is not None:
            return CodeResult(CodeVerdict.EXHAUSTED if row.wrong_tries >= PhoneVoteCode.MAX_TRIES else CodeVerdict.NONE)
        if now >= row.expires_at:
            return CodeResult(CodeVerdict.EXPIRED)
        if not _code_matches(row, code):
            row.wrong_tries += 1
            if row.wrong_tries >= PhoneVoteCode.MAX_TRIES:
                row.voided_at = now
            row.save(update_fields=["wrong_tries", "voided_at"])
            left = PhoneVoteCode.MAX_TRIES - row.wrong_tries
            return CodeResult(CodeVerdict.WRONG if left else CodeVerdict.EXHAUSTED, tries_left=left)
        decision = row.decision
        options = list(DecisionOption.objects.filter(decision=decision).order_by("position", "pk"))
        if isinstance(option_number, bool) or not 1 <= option_number <= len(options):
            return CodeResult(CodeVerdict.BAD_OPTION, decision=decision)
        option = options[option_number - 1]
        try:
            with transaction.atomic():
                _vote_record(actor=None, decision_id=decision.pk, farmer_id=farmer_id, option_id=option.pk,
                             channel=Channel.PHONE)  # fmt: skip
        except DomainError as error:
            return CodeResult(CodeVerdict.REFUSED, decision=decision, message=error.message)
        row.used_at = now
        row.save(update_fields=["used_at"])
        return CodeResult(CodeVerdict.OK, decision=decision, option=option)
