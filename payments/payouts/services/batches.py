"""Payout batches: propose, approve, execute, cancel (house rules 1, 3 and 8).

Ledger postings (see payments.services.ledger for the sign convention: debit > 0, credit < 0):

- approval, kind "payout_allocation", key ``payout_allocation:<batch id>``: debit the cooperative's
  organisation_payable by what leaves it (the members' net plus the input credit recovered), credit each
  member's member_payable with the net and each member's member_input_credit with the credit recovered. The
  levy is not posted: it stays in the cooperative's payable.
- execution, kind "payout", key ``payout:<line id>``, one per member paid: debit member_payable, credit
  provider_clearing.
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from catalogue.models import LotContribution
from marketplace.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from marketplace.core.money import allocate_largest_remainder
from marketplace.core.services import audit_record
from marketplace.organisations.models import MemberFarmer, Organisation, User
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import organisation_for
from orders.models import GradePrice, Order, OrderLine
from payments.models import Account, Entry, LedgerTransaction, Transfer
from payments.payouts.models import (
    CooperativePayoutPolicy,
    PayoutBatch,
    PayoutBatchOrder,
    PayoutLine,
    PayoutShare,
)
from payments.payouts.provider import PayoutInstruction, payout_provider
from payments.payouts.services.split import Contribution, LineProceeds, OrderProceeds, Split, split_proceeds
from payments.services.escrow import transfer_create
from payments.services.ledger import account_get_or_create, ledger_post

S = PayoutBatch.Status
K = Account.Kind
RELEASE_KIND = "release"

# (from, to): who may make the move is checked separately (managers and admins of the cooperative).
PAYOUT_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {(S.PROPOSED, S.APPROVED), (S.PROPOSED, S.CANCELLED), (S.APPROVED, S.EXECUTED)}
)


# --- Policy -----------------------------------------------------------------------------------------


def levy_bp_for(organisation_id: int) -> int:
    policy = CooperativePayoutPolicy.objects.filter(organisation_id=organisation_id).first()
    return policy.levy_bp if policy is not None else settings.PAYOUT_DEFAULT_LEVY_BP


@transaction.atomic
def payout_policy_set(*, actor: User, organisation_id: int, levy_bp: int) -> CooperativePayoutPolicy:
    organisation = organisation_for(viewer=actor, organisation_id=organisation_id, capability=Capability.DECIDE)
    _require_cooperative(organisation)
    if isinstance(levy_bp, bool) or not isinstance(levy_bp, int) or not 0 <= levy_bp <= 10_000:
        raise ValidationFailed(
            "The levy is a whole number of basis points from 0 to 10000 (200 = 2 %).",
            fields={"levy_bp": "Between 0 and 10000."},
        )
    policy = CooperativePayoutPolicy.objects.select_for_update().filter(organisation=organisation).first()
    before = policy.levy_bp if policy is not None else settings.PAYOUT_DEFAULT_LEVY_BP
    if policy is None:
        policy = CooperativePayoutPolicy(organisation=organisation)
    policy.levy_bp = levy_bp
    policy.updated_by = actor
    policy.save()
    audit_record(
        actor=actor,
        action="payout_policy.levy_set",
        subject=policy,
        organisation_id=organisation.pk,
        data={"levy_bp": levy_bp, "before": before},
    )
    return policy


def _require_cooperative(organisation: Organisation) -> None:
    if organisation.kind != Organisation.Kind.COOPERATIVE:
        raise ValidationFailed("Only cooperatives pay members.", fields={"organisation": "Not a cooperative."})


# --- What there is to pay ---------------------------------------------------------------------------


def released_unbatched(*, organisation_id: int) -> list[tuple[LedgerTransaction, int, str]]:
    """(release transaction, net amount credited to the cooperative, currency) for each released produce order
    of the cooperative that no batch (other than a cancelled one) covers yet, oldest first. An order whose net was
    already transferred to the cooperative (released before member payouts took over) is not paid out again."""
    batched = PayoutBatchOrder.objects.filter(active=True).values("order_id")
    releases = (
        LedgerTransaction.objects.filter(
            kind=RELEASE_KIND,
            order__seller_id=organisation_id,
            order__kind=Order.Kind.PRODUCE,
            reversed_by__isnull=True,
        )
        .exclude(order_id__in=batched)
        .exclude(order_id__in=Transfer.objects.values("order_id"))
        .order_by("posted_at", "pk")
    )
    credited = {
        row["transaction_id"]: (-row["total"], row["account__currency"])
        for row in Entry.objects.filter(
            transaction__in=releases,
            account__kind=K.ORGANISATION_PAYABLE,
            account__organisation_id=organisation_id,
        )
        .values("transaction_id", "account__currency")
        .annotate(total=Sum("amount"))
    }
    result = []
    for release in releases:
        amount, currency = credited.get(release.pk, (0, ""))
        if amount > 0:
            result.append((release, amount, currency))
    return result


def _order_proceeds(order_id: int, net: int) -> OrderProceeds:
    lines = list(
        OrderLine.objects.filter(order_id=order_id, listing__isnull=False, lot__isnull=False).order_by("position")
    )
    grade_prices: dict[int, dict[int, int]] = defaultdict(dict)
    for price in GradePrice.objects.filter(line__in=lines):
        grade_prices[price.line_id][price.grade_id] = price.unit_price_amount
    contributions: dict[int, list[Contribution]] = defaultdict(list)
    for row in LotContribution.objects.filter(lot_id__in={line.lot_id for line in lines}).values(
        "lot_id", "farmer_id", "delivery_id", "delivery__grade_id", "grams"
    ):
        contributions[row["lot_id"]].append(
            Contribution(row["farmer_id"], row["delivery_id"], row["lot_id"], row["delivery__grade_id"], row["grams"])
        )
    return OrderProceeds(
        order_id=order_id,
        net=net,
        lines=tuple(
            LineProceeds(
                order_line_id=line.pk,
                weight=line.amount_due if line.amount_due is not None else line.line_total_amount,
                unit_price=line.unit_price_amount,
                grade_id=line.grade_id,
                contributions=tuple(contributions[line.lot_id]),
                grade_prices=grade_prices[line.pk],
            )
            for line in lines
        ),
    )


def _credit_balances(farmer_ids: list[int], currency: str) -> dict[int, int]:
    """Each member's outstanding input credit (member_input_credit balances, any organisation)."""
    rows = (
        Account.objects.filter(kind=K.MEMBER_INPUT_CREDIT, currency=currency, farmer_id__in=farmer_ids, balance__gt=0)
        .values("farmer_id")
        .annotate(total=Sum("balance"))
    )
    return {row["farmer_id"]: row["total"] for row in rows}


def _credit_reserved(farmer_ids: list[int], currency: str, *, exclude_batch_id: int | None = None) -> dict[int, int]:
    """Credit that proposed batches (not yet approved, so not yet posted) already plan to recover."""
    rows = (
        PayoutLine.objects.filter(
            batch__status=S.PROPOSED, batch__currency=currency, farmer_id__in=farmer_ids, credit_amount__gt=0
        )
        .exclude(batch_id=exclude_batch_id)
        .values("farmer_id")
        .annotate(total=Sum("credit_amount"))
    )
    return {row["farmer_id"]: row["total"] for row in rows}


# --- Propose ----------------------------------------------------------------------------------------


def payout_batch_propose(
    *, actor: User | None, organisation_id: int, order_ids: list[int] | None = None
) -> PayoutBatch:
    """Propose a batch for the cooperative's released orders not yet in a batch (or only `order_ids` of them).
    `actor` None is the system (the task that follows releases). Nothing to pay is a 400."""
    with transaction.atomic():
        if actor is None:
            organisation = Organisation.objects.filter(pk=organisation_id).first()
            if organisation is None:
                raise NotFound("No such organisation.")
        else:
            organisation = organisation_for(viewer=actor, organisation_id=organisation_id, capability=Capability.DECIDE)
        _require_cooperative(organisation)
        # One proposal at a time per cooperative, so two proposals cannot both take the same member's credit.
        Organisation.objects.select_for_update(no_key=True).filter(pk=organisation.pk).values("pk").first()
        candidates = released_unbatched(organisation_id=organisation.pk)
        if order_ids is not None:
            wanted = set(order_ids)
            candidates = [c for c in candidates if c[0].order_id in wanted]
            missing = wanted - {c[0].order_id for c in candidates}
            if missing:
                raise ValidationFailed(
                    "Some orders cannot be paid out: they are not released orders of this cooperative, or "
                    "another batch already covers them.",
                    fields={"orders": [f"Order id {i} has nothing to pay out." for i in sorted(missing)]},
                )
        if not candidates:
            raise ValidationFailed(
                "There is nothing to pay: no released order of this cooperative is waiting for a payout.",
                code="nothing_to_pay",
            )
        currency = candidates[0][2]
        candidates = [c for c in candidates if c[2] == currency]
        proceeds = [_order_proceeds(release.order_id, amount) for release, amount, _currency in candidates]
        unsplittable = [p.order_id for p in proceeds if not any(line.contributions for line in p.lines)]
        if unsplittable:
            numbers = Order.objects.filter(pk__in=unsplittable).values_list("number", flat=True)
            raise ValidationFailed(
                f"Order {', '.join(numbers)} sold no lot with member shares, so there is no one to pay.",
                code="no_member_shares",
            )
        farmer_ids = sorted({c.farmer_id for p in proceeds for line in p.lines for c in line.contributions})
        balances = _credit_balances(farmer_ids, currency)
        reserved = _credit_reserved(farmer_ids, currency)
        available = {f: max(0, balances.get(f, 0) - reserved.get(f, 0)) for f in farmer_ids}
        levy_bp = levy_bp_for(organisation.pk)
        split = split_proceeds(proceeds, levy_bp=levy_bp, credit_available=available)
        batch = _save_batch(
            actor=actor, organisation=organisation, currency=currency, levy_bp=levy_bp, split=split,
            candidates=candidates,
        )  # fmt: skip
        audit_record(
            actor=actor,
            action="payout_batch.proposed",
            subject=batch,
            organisation_id=organisation.pk,
            to_status=S.PROPOSED,
            data=_totals(batch) | {"orders": [c[0].order_id for c in candidates]},
        )
        return batch


def _save_batch(*, actor, organisation, currency, levy_bp, split: Split, candidates) -> PayoutBatch:
    batch = PayoutBatch.objects.create(
        organisation=organisation,
        currency=currency,
        levy_bp=levy_bp,
        proceeds_amount=split.proceeds,
        levy_amount=split.levy,
        credit_amount=split.credit,
        net_amount=split.net,
        proposed_by=actor,
    )
    try:
        with transaction.atomic():
            PayoutBatchOrder.objects.bulk_create(
                PayoutBatchOrder(batch=batch, order_id=release.order_id, release_transaction=release, amount=amount)
                for release, amount, _currency in candidates
            )
    except IntegrityError:
        raise Conflict("Another batch took some of these orders a moment ago. Look at the batches again.") from None
    phones = dict(MemberFarmer.objects.filter(pk__in=[m.farmer_id for m in split.members]).values_list("pk", "phone"))
    lines = PayoutLine.objects.bulk_create(
        PayoutLine(
            batch=batch,
            farmer_id=member.farmer_id,
            gross_amount=member.gross,
            levy_amount=member.levy,
            credit_amount=member.credit,
            net_amount=member.net,
            phone=str(phones.get(member.farmer_id) or ""),
        )
        for member in split.members
    )
    PayoutShare.objects.bulk_create(
        PayoutShare(
            line=line,
            order_id=share.order_id,
            order_line_id=share.order_line_id,
            lot_id=share.contribution.lot_id,
            delivery_id=share.contribution.delivery_id,
            grade_id=share.contribution.grade_id,
            grams=share.contribution.grams,
            unit_price_amount=share.unit_price,
            amount=share.amount,
        )
        for line, member in zip(lines, split.members, strict=True)
        for share in member.shares
    )
    return batch


def _totals(batch: PayoutBatch) -> dict:
    return {
        "currency": batch.currency,
        "proceeds": batch.proceeds_amount,
        "levy": batch.levy_amount,
        "credit": batch.credit_amount,
        "net": batch.net_amount,
        "levy_bp": batch.levy_bp,
    }


def payout_batch_propose_for_order(*, order_id: int) -> PayoutBatch | None:
    """The system proposes a batch for one released order (the task that follows a release). Returns None when
    there is nothing to do: not released yet, already in a batch, or no member shares to pay."""
    order = Order.objects.filter(pk=order_id).values("seller_id").first()
    if order is None:
        return None
    if not _has_member_shares(order_id):
        _transfer_whole_release(order_id)
        return None
    try:
        return payout_batch_propose(actor=None, organisation_id=order["seller_id"], order_ids=[order_id])
    except (ValidationFailed, Conflict):
        return None


def _has_member_shares(order_id: int) -> bool:
    lot_ids = OrderLine.objects.filter(order_id=order_id, lot__isnull=False).values("lot_id")
    return LotContribution.objects.filter(lot_id__in=lot_ids).exists()


@transaction.atomic
def _transfer_whole_release(order_id: int) -> None:
    """A sale with no member shares to pay (no lot contributions) is the cooperative's alone: send it all."""
    release = LedgerTransaction.objects.filter(idempotency_key=f"release:{order_id}").first()
    if release is None or Transfer.objects.filter(order_id=order_id).exists():
        return
    net = -sum(
        entry.amount for entry in release.entries.all() if entry.account.kind == Account.Kind.ORGANISATION_PAYABLE
    )
    if net > 0:
        transfer_create(order_id=order_id, amount=net)


# --- Transitions ------------------------------------------------------------------------------------


def _decide(actor: User, batch_id: int) -> PayoutBatch:
    """The batch, if `actor` may decide for its cooperative: 404 for other organisations, 403 for clerks."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotFound("No such payout batch.")
    organisation_id = PayoutBatch.objects.filter(pk=batch_id).values_list("organisation_id", flat=True).first()
    if organisation_id is None:
        raise NotFound("No such payout batch.")
    try:
        organisation_for(viewer=actor, organisation_id=organisation_id, capability=Capability.DECIDE)
    except NotFound:
        raise NotFound("No such payout batch.") from None
    return PayoutBatch.objects.select_for_update().get(pk=batch_id)


def payout_batch_transition(*, actor: User, batch_id: int, to_status: str, reason: str = "") -> PayoutBatch:
    """Move a batch: lock it, check the transition table, make the move's postings, record who and when, write
    an audit record, and schedule the statement SMS on commit (execution)."""
    if to_status not in S.values:
        raise ValidationFailed(
            f"Unknown status {to_status!r}; choose among {', '.join(S.values)}.", fields={"status": "Unknown."}
        )
    with transaction.atomic():
        batch = _decide(actor, batch_id)
        from_status = batch.status
        if (from_status, to_status) not in PAYOUT_TRANSITIONS:
            raise InvalidTransition(
                f"A {S(from_status).label.lower()} payout batch cannot become {S(to_status).label.lower()}."
            )
        now = timezone.now()
        if to_status == S.APPROVED:
            batch.allocation_transaction = _post_allocation(actor, batch)
            batch.approved_by, batch.approved_at = actor, now
        elif to_status == S.EXECUTED:
            batch.provider = _execute(actor, batch)
            batch.executed_by, batch.executed_at = actor, now
        elif to_status == S.CANCELLED:
            reason = (reason or "").strip()
            if not reason:
                raise ValidationFailed("Say why the batch is cancelled.", fields={"reason": "Required."})
            batch.orders.update(active=False)
            batch.cancelled_by, batch.cancelled_at, batch.cancel_reason = actor, now, reason
        batch.status = to_status
        batch.save()
        audit_record(
            actor=actor,
            action=f"payout_batch.{to_status}",
            subject=batch,
            organisation_id=batch.organisation_id,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            data=_totals(batch),
        )
        if to_status == S.EXECUTED:
            line_ids = list(batch.lines.values_list("pk", flat=True))
            transaction.on_commit(lambda: _schedule_sms(line_ids))
        return batch


def _schedule_sms(line_ids: list[int]) -> None:
    from payments.payouts.tasks import payout_sms_send

    for line_id in line_ids:
        payout_sms_send.delay(line_id)


def payout_batch_approve(*, actor: User, batch_id: int) -> PayoutBatch:
    return payout_batch_transition(actor=actor, batch_id=batch_id, to_status=S.APPROVED)


def payout_batch_execute(*, actor: User, batch_id: int) -> PayoutBatch:
    return payout_batch_transition(actor=actor, batch_id=batch_id, to_status=S.EXECUTED)


def payout_batch_cancel(*, actor: User, batch_id: int, reason: str) -> PayoutBatch:
    return payout_batch_transition(actor=actor, batch_id=batch_id, to_status=S.CANCELLED, reason=reason)


def _post_allocation(actor: User, batch: PayoutBatch) -> LedgerTransaction | None:
    lines = list(batch.lines.order_by("farmer_id"))
    currency = batch.currency
    payable = account_get_or_create(
        kind=K.ORGANISATION_PAYABLE, currency=currency, organisation_id=batch.organisation_id
    )
    postings: list[tuple[Account, int]] = []
    for line in lines:
        if line.net_amount:
            postings.append(
                (account_get_or_create(kind=K.MEMBER_PAYABLE, currency=currency, farmer_id=line.farmer_id),
                 -line.net_amount)
            )  # fmt: skip
        if line.credit_amount:
            postings.extend(_credit_recovery(line, currency))
    leaving = sum(line.net_amount + line.credit_amount for line in lines)
    if not leaving:
        return None  # the whole proceeds are levy: nothing leaves the cooperative's payable
    return ledger_post(
        actor=actor,
        kind="payout_allocation",
        idempotency_key=f"payout_allocation:{batch.pk}",
        lines=[(payable, leaving), *postings],
        memo=f"Payout batch {batch.reference}",
    )


def _credit_recovery(line: PayoutLine, currency: str) -> list[tuple[Account, int]]:
    """Credit the member's input-credit accounts (oldest first) with what the line recovers, after checking
    under a row lock that the member still owes at least that much."""
    accounts = list(
        Account.objects.select_for_update()
        .filter(kind=K.MEMBER_INPUT_CREDIT, currency=currency, farmer_id=line.farmer_id, balance__gt=0)
        .order_by("pk")
    )
    remaining = line.credit_amount
    postings = []
    for account in accounts:
        take = min(remaining, account.balance)
        if take:
            postings.append((account, -take))
            remaining -= take
    if remaining:
        raise Conflict(
            "A member's input credit changed since this batch was proposed: cancel the batch and propose it again.",
            code="credit_changed",
        )
    return postings


def _execute(actor: User, batch: PayoutBatch) -> str:
    provider = payout_provider()
    lines = list(batch.lines.filter(net_amount__gt=0).order_by("pk"))
    instructions = [
        PayoutInstruction(line_id=line.pk, phone=line.phone, amount=batch.money(line.net_amount),
                          reference=line.reference)
        for line in lines
    ]  # fmt: skip
    results = {result.line_id: result for result in provider.pay(instructions)}
    clearing = account_get_or_create(kind=K.PROVIDER_CLEARING, currency=batch.currency)
    now = timezone.now()
    for line in lines:
        result = results.get(line.pk)
        if result is None:
            raise Conflict(f"The payout provider did not confirm payment {line.reference}; nothing was recorded.")
        payable = account_get_or_create(kind=K.MEMBER_PAYABLE, currency=batch.currency, farmer_id=line.farmer_id)
        line.payout_transaction = ledger_post(
            actor=actor,
            kind="payout",
            idempotency_key=f"payout:{line.pk}",
            lines=[(payable, line.net_amount), (clearing, -line.net_amount)],
            memo=f"Payout {line.reference}",
        )
        line.paid_at = now
        line.provider_reference = result.provider_reference[:100]
        line.save(update_fields=["payout_transaction", "paid_at", "provider_reference"])
    _transfer_cooperative_part(batch)
    return provider.name


def _transfer_cooperative_part(batch: PayoutBatch) -> None:
    """What the members did not get (the levy) is the cooperative's: send it to its payout account, shared
    over the batch's orders in proportion to their proceeds, one transfer per order (each names its charge)."""
    retained = batch.proceeds_amount - batch.net_amount - batch.credit_amount
    if retained <= 0:
        return
    batch_orders = list(batch.orders.order_by("order_id"))
    parts = allocate_largest_remainder(retained, [entry.amount for entry in batch_orders])
    for entry, part in zip(batch_orders, parts, strict=True):
        if part > 0:
            transfer_create(order_id=entry.order_id, amount=part)
