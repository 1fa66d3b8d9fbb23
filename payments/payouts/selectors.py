"""Reads for member payouts; every one takes the viewer (house rule 2). Batches and statements are the
cooperative's own: its members (any role) see them, and every other organisation gets NotFound."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch, QuerySet, Sum
from django.utils import timezone

from catalogue.models import Delivery, LotContribution
from marketplace.core.errors import NotFound
from marketplace.core.money import Money
from marketplace.organisations.models import MemberFarmer, Organisation, User
from marketplace.organisations.roles import Capability, role_can
from marketplace.organisations.selectors import is_operator, member_farmer_get, organisation_for
from orders.models import Order
from payments.models import Account
from payments.payouts.input_statement import member_inputs
from payments.payouts.models import CooperativePayoutPolicy, PayoutBatch, PayoutBatchOrder, PayoutLine, PayoutShare
from payments.payouts.provider import PayoutInstruction, payments_csv
from payments.payouts.services.batches import levy_bp_for, released_unbatched


def _cooperative_ids(viewer: User) -> list[int]:
    if not viewer.is_authenticated:
        return []
    return [
        m.organisation_id
        for m in viewer.memberships.select_related("organisation")
        if role_can(m.role, Capability.VIEW) and m.organisation.kind == Organisation.Kind.COOPERATIVE
    ]


def payout_batch_list(*, viewer: User, organisation_id: int | None = None, status: str = "") -> QuerySet[PayoutBatch]:
    ids = _cooperative_ids(viewer)
    if organisation_id is not None:
        ids = [i for i in ids if i == organisation_id]
    queryset = PayoutBatch.objects.filter(organisation_id__in=ids)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.select_related("organisation", "proposed_by", "approved_by", "executed_by").order_by(
        "-proposed_at", "-id"
    )


def payout_batch_get(*, viewer: User, batch_id: int, operator: bool = False) -> PayoutBatch:
    """A batch of one of the viewer's cooperatives (`operator`: or any batch, for the platform operator's own
    actions on payouts, such as retrying failed payments)."""
    queryset = payout_batch_list(viewer=viewer)
    if operator and is_operator(viewer):
        queryset = PayoutBatch.objects.select_related("organisation", "proposed_by", "approved_by", "executed_by")
    batch = (
        queryset.select_related("cancelled_by")
        .prefetch_related(
            Prefetch("lines", queryset=PayoutLine.objects.select_related("farmer").order_by("farmer__member_number")),
            Prefetch("orders", queryset=PayoutBatchOrder.objects.select_related("order").order_by("order_id")),
        )
        .filter(pk=batch_id)
        .first()
    )
    if batch is None:
        raise NotFound("No such payout batch.")
    return batch


def payout_policy_get(*, viewer: User, organisation_id: int) -> dict:
    """The cooperative's levy, and whether it is the cooperative's own or the platform default."""
    organisation = organisation_for(viewer=viewer, organisation_id=organisation_id, capability=Capability.VIEW)
    if organisation.kind != Organisation.Kind.COOPERATIVE:
        raise NotFound("No such cooperative.")
    own = CooperativePayoutPolicy.objects.filter(organisation=organisation).exists()
    return {"organisation": organisation.pk, "levy_bp": levy_bp_for(organisation.pk), "is_default": not own}


@dataclass(frozen=True)
class Candidate:
    order: Order
    amount: Money


def payout_candidates(*, viewer: User, organisation_id: int) -> list[Candidate]:
    """Released orders of the cooperative that no batch covers yet: what a proposal would pay out."""
    organisation_for(viewer=viewer, organisation_id=organisation_id, capability=Capability.VIEW)
    rows = released_unbatched(organisation_id=organisation_id)
    orders = Order.objects.in_bulk([release.order_id for release, _a, _c in rows])
    return [Candidate(orders[release.order_id], Money(amount, currency)) for release, amount, currency in rows]


def _instructions(batch: PayoutBatch) -> list[PayoutInstruction]:
    return [
        PayoutInstruction(line_id=line.pk, phone=line.phone, amount=batch.money(line.net_amount),
                          reference=line.reference)
        for line in batch.lines.all()
        if line.net_amount > 0
    ]  # fmt: skip


def payout_batch_csv(*, viewer: User, batch_id: int) -> tuple[str, str]:
    """(file name, CSV) of the bulk mobile-money upload of an approved or executed batch."""
    batch = payout_batch_get(viewer=viewer, batch_id=batch_id)
    if batch.status not in (PayoutBatch.Status.APPROVED, PayoutBatch.Status.EXECUTING, PayoutBatch.Status.EXECUTED):
        raise NotFound("The payment file exists once the batch is approved.")
    return f"payouts-{batch.reference}.csv", payments_csv(_instructions(batch))


# --- Member statements -------------------------------------------------------------------------------


@dataclass
class StatementTotals:
    currency: str
    gross: int = 0
    levy: int = 0
    credit: int = 0
    net: int = 0
    paid: int = 0

    def money(self, name: str) -> Money:
        return Money(getattr(self, name), self.currency)


@dataclass
class Statement:
    farmer: MemberFarmer
    organisation: Organisation
    deliveries: list[Delivery]
    contributions: list[LotContribution]
    sales: list[PayoutShare]
    payouts: list[PayoutLine]
    totals: list[StatementTotals]
    outstanding_credit: list[Money]
    generated_at: datetime = field(default_factory=timezone.now)
    inputs: list = field(default_factory=list)  # group order allocations collected (payouts.input_statement)
    input_credit: list = field(default_factory=list)  # owed, recovered and left per currency

    @property
    def delivered_grams(self) -> int:
        return sum(d.net_grams for d in self.deliveries)


def member_statement(*, viewer: User, farmer_id: int) -> Statement:
    """A member farmer's statement: deliveries, lots, sales, levy, credit deducted and payments, oldest first.
    Payout batches that were cancelled are left out."""
    try:
        farmer = member_farmer_get(viewer=viewer, farmer_id=farmer_id)
    except NotFound:
        raise NotFound("No such member farmer.") from None
    organisation = farmer.organisation
    deliveries = list(
        Delivery.objects.filter(farmer=farmer)
        .select_related("commodity", "grade", "collection_point")
        .order_by("delivered_on", "pk")
    )
    contributions = list(
        LotContribution.objects.filter(farmer=farmer)
        .select_related("lot", "lot__grade", "delivery")
        .order_by("lot__created_at", "lot_id", "delivery_id")
    )
    lines = list(
        PayoutLine.objects.filter(farmer=farmer)
        .exclude(batch__status=PayoutBatch.Status.CANCELLED)
        .select_related("batch")
        .order_by("batch__proposed_at", "pk")
    )
    sales = list(
        PayoutShare.objects.filter(line__in=lines)
        .select_related("order", "lot", "grade", "line__batch")
        .order_by("line__batch__proposed_at", "order_id", "order_line_id", "delivery_id")
    )
    totals: dict[str, StatementTotals] = {}
    for line in lines:
        t = totals.setdefault(line.batch.currency, StatementTotals(line.batch.currency))
        t.gross += line.gross_amount
        t.levy += line.levy_amount
        t.credit += line.credit_amount
        t.net += line.net_amount
        if line.paid_at is not None:
            t.paid += line.net_amount
    credit_rows = (
        Account.objects.filter(kind=Account.Kind.MEMBER_INPUT_CREDIT, farmer=farmer, balance__gt=0)
        .values("currency")
        .annotate(total=Sum("balance"))
        .order_by("currency")
    )
    outstanding = [Money(row["total"], row["currency"]) for row in credit_rows]
    inputs, input_credit = member_inputs(farmer, lines, outstanding)
    return Statement(
        farmer=farmer,
        organisation=organisation,
        deliveries=deliveries,
        contributions=contributions,
        sales=sales,
        payouts=lines,
        totals=list(totals.values()),
        outstanding_credit=outstanding,
        inputs=inputs,
        input_credit=input_credit,
    )
