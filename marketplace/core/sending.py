"""Send a message once per row, never while holding the row's lock (DESIGN.md house rule 4).

    send_once(Notification.objects.select_related("order"), pk, deliver)

The row (any model with a nullable `sent_at`) is claimed in a short transaction: locked, checked, stamped `sent_at`,
committed. `deliver(row)` then calls the e-mail or SMS provider with no lock held. If it raises, the claim is
released (`sent_at` back to null) and the exception propagates, so the task's retry sends it. A process that dies
between the claim and the provider's answer leaves the row claimed: the message is sent at most once, never twice.
"""

from collections.abc import Callable

from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

SENT, MISSING, ALREADY_SENT = "sent", "missing", "already_sent"


def send_once(rows: QuerySet, pk: int, deliver: Callable[[Model], None]) -> str:
    """Claim row `pk` of `rows` and deliver it; "sent", or "missing" (not in `rows`) or "already_sent"."""
    with transaction.atomic():
        row = rows.select_for_update(of=("self",)).filter(pk=pk).first()
        if row is None:
            return MISSING
        if row.sent_at is not None:
            return ALREADY_SENT
        row.sent_at = timezone.now()
        row.save(update_fields=["sent_at"])
    try:
        deliver(row)
    except Exception:
        rows.model.objects.filter(pk=row.pk).update(sent_at=None)
        raise
    return SENT
