"""Cash payouts: a member without a phone number is paid by hand at the cooperative. The batch's execution
records the payment: asking for it posts the ledger and leaves the batch "executing"; the payout task then sets
each line's `paid_at` and marks the batch "executed". Only then is there cash to hand over. This records the
handover itself — the clerk who gave the cash and when — once, after the clerk confirmed it on the page, so a
receipt can be printed and signed."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from marketplace.core.errors import Conflict, NotFound
from marketplace.core.services import audit_record
from marketplace.organisations.models import User
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import organisation_for
from payments.payouts.models import CashHandover, PayoutBatch, PayoutLine


def is_cash_line(line: PayoutLine) -> bool:
    return not line.phone and line.net_amount > 0


@transaction.atomic
def cash_handover_record(*, actor: User, line_id: int, note: str = "") -> CashHandover:
    """Record that `actor` handed the member their net payout in cash, now. Clerks and above of the cooperative."""
    line = PayoutLine.objects.select_for_update().select_related("batch").filter(pk=line_id).first()
    if line is None:
        raise NotFound("No such payout.")
    try:
        organisation_for(viewer=actor, organisation_id=line.batch.organisation_id, capability=Capability.RECORD)
    except NotFound:
        raise NotFound("No such payout.") from None
    if not is_cash_line(line):
        raise Conflict("This member is paid by mobile money, not in cash.", code="not_cash")
    if line.batch.status != PayoutBatch.Status.EXECUTED or line.paid_at is None:
        raise Conflict("Execute the payout batch before handing over the cash.", code="not_executed")
    if CashHandover.objects.filter(line=line).exists():
        raise Conflict("The cash for this payout was already handed over.", code="already_handed_over")
    handover = CashHandover.objects.create(
        line=line, handed_over_by=actor, handed_over_at=timezone.now(), note=(note or "").strip()[:200]
    )
    audit_record(
        actor=actor, action="payout_line.cash_handed_over", subject=line, organisation_id=line.batch.organisation_id,
        data={"amount": line.net_amount, "currency": line.batch.currency, "reference": line.reference},
    )  # fmt: skip
    return handover
