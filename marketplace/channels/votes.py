"""USSD menu entry: vote in an open decision of the member's cooperative (the member voting app's services).

Only decisions open now for which the member is on the list of voters are shown; the vote needs the PIN and is
recorded by `decisions.services.vote_cast` with the phone channel (a later vote before closing replaces it)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.channels.menu import Caller, MenuEntry, Screen, lines_within, pick, register
from marketplace.core.errors import DomainError
from marketplace.decisions.models import Channel, Decision, DecisionOption, Eligibility
from marketplace.decisions.services import vote_cast


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


def vote_screen(caller: Caller, inputs: list[str]) -> Screen:
    decisions = open_decisions(caller)
    if not decisions:
        return Screen(_("No vote is open for you now."))
    choice, invalid, rest = pick(inputs, len(decisions))
    if choice is None:
        head = (_("Not an option.") + " " if invalid else "") + _("Vote on:")
        return Screen(lines_within(head, [f"{i}. {d.question[:50]}" for i, d in enumerate(decisions, 1)]), end=False)
    decision = decisions[choice - 1]
    options = list(DecisionOption.objects.filter(decision=decision).order_by("position", "pk"))
    picked, invalid, rest = pick(rest, len(options))
    if picked is None:
        head = (_("Not an option.") + " " if invalid else "") + decision.question[:70]
        return Screen(lines_within(head, [f"{i}. {o.label[:40]}" for i, o in enumerate(options, 1)]), end=False)
    option = options[picked - 1]
    try:
        vote_cast(actor=None, decision_id=decision.pk, farmer_id=caller.farmer.pk, option_id=option.pk,
                  channel=Channel.PHONE)  # fmt: skip
    except DomainError as error:
        return Screen(error.message[:170])
    return Screen(
        _("Your vote (%(option)s) is recorded. You can change it until %(day)s.")
        % {"option": option.label[:40], "day": f"{decision.closes_at:%d/%m/%Y %H:%M}"}
    )


register(
    MenuEntry(
        key="vote",
        order=50,
        label=lambda: _("Vote"),
        ussd=vote_screen,
        needs_pin=True,
        available=lambda caller: bool(open_decisions(caller)),
    )
)
