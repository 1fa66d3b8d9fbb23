"""The inputs part of a member's statement: inputs collected from group orders, and per currency the input credit
owed (inputs collected on credit), recovered (deducted from payouts) and left (still outstanding)."""

from dataclasses import dataclass

from marketplace.core.money import Money
from orders.group_models import MemberAllocation


@dataclass
class CreditSummary:
    currency: str
    owed: int = 0
    recovered: int = 0
    left: int = 0

    def money(self, name: str) -> Money:
        return Money(getattr(self, name), self.currency)


def member_inputs(farmer, payout_lines, outstanding: list[Money]) -> tuple[list, list[CreditSummary]]:
    inputs = list(
        MemberAllocation.objects.filter(farmer=farmer, handed_over_at__isnull=False)
        .select_related("group_order", "line__product__packaging")
        .order_by("handed_over_at", "pk")
    )
    summary: dict[str, CreditSummary] = {}
    for allocation in inputs:
        if allocation.on_credit:
            summary.setdefault(allocation.group_order.currency, CreditSummary(allocation.group_order.currency))
            summary[allocation.group_order.currency].owed += allocation.amount
    for line in payout_lines:
        # Only a paid-out batch has recovered anything; a proposed or approved one may still be cancelled.
        if line.credit_amount and line.batch.status == "executed":
            summary.setdefault(line.batch.currency, CreditSummary(line.batch.currency)).recovered += line.credit_amount
    for money in outstanding:
        summary.setdefault(money.currency, CreditSummary(money.currency)).left = money.amount
    return inputs, list(summary.values())
