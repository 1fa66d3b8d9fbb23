"""Reads for cash payouts (house rule 2): the cooperative's own lines only; any other organisation gets NotFound."""

from __future__ import annotations

from django.db.models import QuerySet

from marketplace.core.errors import NotFound
from marketplace.organisations.models import User
from payments.payouts.models import PayoutBatch, PayoutLine
from payments.payouts.selectors import _cooperative_ids


def cash_lines(*, viewer: User, organisation_id: int, handed_over: bool | None = None) -> QuerySet[PayoutLine]:
    """Executed payouts of members without a phone, oldest first; `handed_over` filters on the handover."""
    ids = [i for i in _cooperative_ids(viewer) if i == organisation_id]
    queryset = PayoutLine.objects.filter(
        batch__organisation_id__in=ids, batch__status=PayoutBatch.Status.EXECUTED, phone="", net_amount__gt=0
    )
    if handed_over is not None:
        queryset = queryset.filter(cash_handover__isnull=not handed_over)
    return queryset.select_related("batch", "farmer", "cash_handover__handed_over_by").order_by(
        "batch__executed_at", "farmer__member_number", "pk"
    )


def cash_line_get(*, viewer: User, line_id: int) -> PayoutLine:
    line = (
        PayoutLine.objects.filter(pk=line_id, batch__organisation_id__in=_cooperative_ids(viewer))
        .select_related("batch__organisation", "farmer", "cash_handover__handed_over_by")
        .first()
    )
    if line is None:
        raise NotFound("No such payout.")
    return line
