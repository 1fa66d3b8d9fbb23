from celery import shared_task
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from marketplace.core.sms import send_sms
from marketplace.decisions import services
from marketplace.decisions.models import Decision, Eligibility, Notice


@shared_task
def decisions_due() -> dict:
    """Beat, every few minutes: open decisions whose time has come, close those past their closing time (once),
    and remind members a day before closing."""
    return services.decisions_due()


def _notice(decision: Decision, what: str) -> str:
    if what == "opened":
        return _("%(coop)s asks you to vote: %(question)s Voting closes %(when)s.") % {
            "coop": decision.organisation.name, "question": decision.question,
            "when": decision.closes_at.strftime("%d/%m %H:%M"),
        }  # fmt: skip
    if what == "reminder":
        return _("Reminder: voting on “%(question)s” closes %(when)s.") % {
            "question": decision.question, "when": decision.closes_at.strftime("%d/%m %H:%M")
        }  # fmt: skip
    return _("Result of the vote “%(question)s”: %(outcome)s") % {
        "question": decision.question, "outcome": decision.outcome
    }  # fmt: skip


@shared_task
def decision_notice_send(decision_id: int, what: str) -> int:
    """SMS every eligible member once per notice (opened, reminder, closed). Safe to run twice: each member's
    notice is recorded before it is sent."""
    decision = Decision.objects.select_related("organisation").filter(pk=decision_id).first()
    if decision is None:
        return 0
    sent = 0
    rows = Eligibility.objects.filter(decision=decision).select_related("farmer").order_by("pk")
    for row in rows:
        farmer = row.farmer
        if not farmer.phone:
            continue
        # The notice row commits before the SMS goes: a second run skips the member, a crash loses one SMS at most.
        with transaction.atomic():
            _, created = Notice.objects.get_or_create(decision=decision, farmer=farmer, what=what)
        if not created:
            continue
        language = decision.organisation.preferred_language or "en"
        with translation.override(language):
            send_sms(to=str(farmer.phone), body=_notice(decision, what))
        sent += 1
    return sent
