"""The statement SMS: sent once per payout line, whatever the number of task runs."""

from django.db import transaction

from marketplace.core.sms import send_sms
from payments.payouts.models import PayoutBatch, PayoutLine, PayoutSms


def payout_sms_send(*, line_id: int) -> PayoutSms | None:
    """Send the member the short statement of an executed payout. A second call sends nothing and returns the
    first record; a member without a phone number is recorded as such."""
    from payments.payouts.statements import sms_text

    with transaction.atomic():
        line = (
            PayoutLine.objects.select_for_update(of=("self",))
            .select_related("batch__organisation", "farmer")
            .filter(pk=line_id)
            .first()
        )
        if line is None or line.batch.status != PayoutBatch.Status.EXECUTED:
            return None
        existing = PayoutSms.objects.filter(line=line).first()
        if existing is not None:
            return existing
        phone = str(line.farmer.phone or "")
        if not phone:
            return PayoutSms.objects.create(line=line, outcome=PayoutSms.Outcome.NO_PHONE)
        organisation = line.batch.organisation
        body = sms_text(
            line,
            organisation_name=organisation.display_name or organisation.legal_name,
            language=line.farmer.language or organisation.preferred_language or "en",
        )
        send_sms(to=phone, body=body)
        return PayoutSms.objects.create(line=line, to=phone, body=body, outcome=PayoutSms.Outcome.SENT)
