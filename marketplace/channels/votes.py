"""Voting by phone in an open decision of the member's cooperative (the member voting app's services).

Only decisions open now for which the member is on the list of voters are shown. A vote is confirmed by a one-time
code that `decisions.services.phone_vote_code_issue` sends by SMS to the member's phone on record (not the PIN):

- USSD: Vote -> the decision -> the choice -> "enter the code sent by SMS" -> the code. A wrong code asks again (3
  tries in all); the vote is recorded only when the right code is entered.
- SMS: ``VOTE`` lists the open votes; ``VOTE 1`` sends a code for the first; ``VOTE <code> <choice>`` (e.g.
  ``VOTE 482913 2``) records the choice. On a number shared by several members, the cooperative's number comes first
  (``VOTE 2 1``).

A later vote before closing replaces the earlier one (each needs a new code).
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.channels import selectors
from marketplace.channels.menu import Caller, MenuEntry, Screen, lines_within, pick, register
from marketplace.core.errors import DomainError
from marketplace.decisions.models import Decision, DecisionOption, Eligibility, PhoneVoteCode
from marketplace.decisions.services import CodeResult, CodeVerdict, phone_vote_code_issue, phone_vote_confirm


def open_decisions(caller: Caller) -> list[Decision]:
    now = timezone.now()
    eligible = Eligibility.objects.filter(farmer_id=caller.farmer.pk).values("decision_id")
    return list(
        Decision.objects.filter(
            organisation_id=caller.farmer.organisation_id,
            status=Decision.Status.OPEN,
            opens_at__lte=now,
            closes_at__gt=now,
            pk__in=eligible,
        ).order_by("closes_at", "pk")[:4]
    )


def _available(caller: Caller) -> bool:
    """A decision open for the member, or a code sent in the last hour (its answer must get a clear reply even if
    the vote closed meanwhile); one query."""
    now = timezone.now()
    recent = PhoneVoteCode.objects.filter(farmer_id=caller.farmer.pk, created_at__gte=now - timedelta(hours=1))
    open_now = Q(decision__status=Decision.Status.OPEN, decision__opens_at__lte=now, decision__closes_at__gt=now)
    return (
        Eligibility.objects.filter(farmer_id=caller.farmer.pk)
        .filter(open_now | Q(decision_id__in=recent.values("decision_id")))
        .exists()
    )


def _options(decision: Decision) -> list[DecisionOption]:
    return list(DecisionOption.objects.filter(decision=decision).order_by("position", "pk"))


def _is_code(value: str) -> bool:
    value = value.strip()
    return len(value) == PhoneVoteCode.DIGITS and value.isdigit()


def _recorded(result: CodeResult) -> str:
    return _("Your vote (%(option)s) is recorded. You can change it until %(day)s.") % {
        "option": result.option.label[:40],
        "day": f"{result.decision.closes_at:%d/%m/%Y %H:%M}",
    }


def _refusal(result: CodeResult) -> str:
    """What a member is told when the code does not confirm the vote."""
    if result.verdict == CodeVerdict.WRONG:
        return _("Wrong code. %(left)s tries left.") % {"left": result.tries_left}
    if result.verdict == CodeVerdict.EXHAUSTED:
        return _("Wrong code 3 times: this code no longer works. Ask for a new code.")
    if result.verdict == CodeVerdict.EXPIRED:
        return _("This code has expired (codes last 10 minutes). Ask for a new code.")
    if result.verdict == CodeVerdict.USED:
        return _("This code was already used. Ask for a new code to vote again.")
    if result.verdict == CodeVerdict.MALFORMED:
        return _("The code is the 6 digits sent to you by SMS.")
    if result.verdict == CodeVerdict.BAD_OPTION:
        return _("Not an option.")
    if result.verdict == CodeVerdict.REFUSED:
        return result.message[:160]
    return _("No code is waiting for you. Ask for a new code.")


def _issue(caller: Caller, decision: Decision) -> str | None:
    """Send a code; None when sent, else why not."""
    try:
        phone_vote_code_issue(decision_id=decision.pk, farmer_id=caller.farmer.pk)
    except DomainError as error:
        if error.code == "too_many_codes":
            return _("Too many codes asked for in the last hour. Please try again later.")
        return error.message[:160]
    return None


# --- USSD ------------------------------------------------------------------------------------------------------


def vote_screen(caller: Caller, inputs: list[str]) -> Screen:
    decisions = open_decisions(caller)
    if not decisions:
        return Screen(_("No vote is open for you now."))
    choice, invalid, rest = pick(inputs, len(decisions))
    if choice is None:
        head = (_("Not an option.") + " " if invalid else "") + _("Vote on:")
        return Screen(lines_within(head, [f"{i}. {d.question[:50]}" for i, d in enumerate(decisions, 1)]), end=False)
    decision = decisions[choice - 1]
    options = _options(decision)
    picked, invalid, rest = pick(rest, len(options))
    if picked is None:
        head = (_("Not an option.") + " " if invalid else "") + decision.question[:70]
        return Screen(lines_within(head, [f"{i}. {o.label[:40]}" for i, o in enumerate(options, 1)]), end=False)
    option = options[picked - 1]
    if not rest:
        # The gateway posts each path once (a replay gets the stored screen), so this sends one code per path.
        problem = _issue(caller, decision)
        if problem:
            return Screen(problem)
        return Screen(
            _("We sent you a code by SMS. Enter it to confirm your vote (%(option)s):") % {"option": option.label[:40]},
            end=False,
        )
    # Only the last input is new: the earlier ones were answered already (wrong or not a code), never re-checked.
    result = phone_vote_confirm(
        farmer_id=caller.farmer.pk, decision_id=decision.pk, code=rest[-1], option_number=picked
    )
    if result.verdict == CodeVerdict.OK:
        return Screen(_recorded(result))
    if result.verdict in (CodeVerdict.WRONG, CodeVerdict.MALFORMED):
        return Screen(_refusal(result) + " " + _("Enter the code:"), end=False)
    if result.verdict == CodeVerdict.NONE:
        return Screen(_("No code is waiting for you. Dial again for a new code."))
    return Screen(_refusal(result))


# --- SMS -------------------------------------------------------------------------------------------------------


def vote_sms(caller: Caller, words: list[str]) -> str:
    numbers = [w for w in words if w.isdigit()]
    if len(selectors.callers_for_phone(phone=caller.phone)) > 1:
        single = next((w for w in numbers if len(w) == 1), None)
        if single is not None:
            numbers.remove(single)  # the cooperative's number on a shared phone
    code = next((w for w in numbers if _is_code(w)), None)
    if code is not None:
        others = [w for w in numbers if w != code and len(w) <= 2]
        if not others:
            return _("Send VOTE, the code and your choice, for example: VOTE %(code)s 1") % {"code": code}
        result = phone_vote_confirm(farmer_id=caller.farmer.pk, code=code, option_number=int(others[0]))
        if result.verdict == CodeVerdict.OK:
            return _recorded(result)
        if result.verdict == CodeVerdict.BAD_OPTION:
            choices = ", ".join(f"{i} {o.label[:24]}" for i, o in enumerate(_options(result.decision), 1))
            return _("Not an option. Choose: %(choices)s") % {"choices": choices}
        return _refusal(result)
    decisions = open_decisions(caller)
    if not decisions:
        return _("No vote is open for you now.")
    wanted = next((int(w) for w in numbers if len(w) <= 2), None)
    if wanted is None or not 1 <= wanted <= len(decisions):
        listed = " ".join(f"{i} {d.question[:50]}" for i, d in enumerate(decisions, 1))
        return _("Votes open: %(votes)s. Send VOTE and the number for a code, for example: VOTE 1") % {"votes": listed}
    decision = decisions[wanted - 1]
    problem = _issue(caller, decision)
    if problem:
        return problem
    choices = ", ".join(f"{i} {o.label[:24]}" for i, o in enumerate(_options(decision), 1))
    return _("Code sent by SMS. Reply VOTE, the code and your choice (%(choices)s), for example: VOTE 123456 1") % {
        "choices": choices
    }


register(
    MenuEntry(
        key="vote",
        word=lambda: _("VOTE"),
        order=50,
        label=lambda: _("Vote"),
        ussd=vote_screen,
        keywords=frozenset({"VOTE", "VOTER", "KURA", "PIGA"}),
        sms=vote_sms,
        available=_available,
    )
)
