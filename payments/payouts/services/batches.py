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
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext

from catalogue.models import LotContribution
from marketplace.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from marketplace.core.money import allocate_largest_remainder
from marketplace.core.services import audit_batch, audit_record
from marketplace.core.transitions import TransitionTable, transition_locked
from marketplace.organisations.models import MemberFarmer, Organisation, User
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import is_operator, organisation_for
from orders.models import GradePrice, Order, OrderLine
from payments.models import Account, Entry, LedgerTransaction, Transfer
from payments.payouts.models import (
    CooperativePayoutPolicy,
    PayoutBatch,
    PayoutBatchOrder,
    PayoutLine,
    PayoutShare,
)
from payments.payouts.provider import PayoutInstruction, PayoutRefused, payout_provider
from payments.payouts.services.lines import payout_line_transition
from payments.payouts.services.split import Contribution, LineProceeds, OrderProceeds, Split, split_proceeds
from payments.services.alerts import operator_alert
from payments.services.escrow import enqueue, transfer_create
from payments.services.ledger import account_get_or_create, ledger_post, ledger_reverse

S = PayoutBatch.Status
K = Account.Kind
RELEASE_KIND = "release"

# (from, to): who may make the move is checked separately (managers and admins of the cooperative).
PAYOUT_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {(S.PROPOSED, S.APPROVED), (S.PROPOSED, S.CANCELLED), (S.APPROVED, S.EXECUTED)}
)
# Every status change of a batch (the people's moves above, where "executed" is asked for and the batch becomes
# "executing" until the provider has paid; "executing" back to "approved" when the provider refuses).
PAYOUT_BATCH_TABLE = TransitionTable(
    "payout_batch",
    {
        "proposed": {"approved", "cancelled"},
        "approved": {"executing"},
        "executing": {"executed", "approved"},
        "executed": set(),
        "cancelled": set(),
    },
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
                gettext("Order %(numbers)s sold no lot with member shares, so there is no one to pay.")
                % {"numbers": ", ".join(numbers)},
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
    """A person moves a batch: lock it, check the move, make its postings, record who and when, write an audit
    record. Asking for "executed" starts the execution: the members' payouts are posted and the batch becomes
    "executing" in this transaction; the provider is called after the commit, outside any lock, by
    `payout_batch_send` (a task), which makes the batch "executed"."""
    if to_status not in S.values:
        raise ValidationFailed(
            gettext("Unknown status %(to_status)s; choose among %(choices)s.")
            % {"to_status": repr(to_status), "choices": ", ".join(S.values)},
            fields={"status": "Unknown."},
        )
    with transaction.atomic():
        batch = _decide(actor, batch_id)
        from_status = batch.status
        if (from_status, to_status) not in PAYOUT_TRANSITIONS:
            raise InvalidTransition(
                gettext("A %(from_status)s payout batch cannot become %(to_status)s.")
                % {"from_status": S(from_status).label.lower(), "to_status": S(to_status).label.lower()}
            )
        now = timezone.now()
        target = to_status

        def apply(batch: PayoutBatch) -> dict:
            nonlocal reason
            if to_status == S.APPROVED:
                batch.allocation_transaction = _post_allocation(actor, batch)
                batch.approved_by, batch.approved_at = actor, now
            elif to_status == S.EXECUTED:
                _execute_begin(actor, batch)
                batch.executed_by = actor
            elif to_status == S.CANCELLED:
                reason = (reason or "").strip()
                if not reason:
                    raise ValidationFailed("Say why the batch is cancelled.", fields={"reason": "Required."})
                batch.orders.update(active=False)
                batch.cancelled_by, batch.cancelled_at, batch.cancel_reason = actor, now, reason
            return _totals(batch)

        if to_status == S.EXECUTED:
            target = S.EXECUTING
        batch = transition_locked(
            obj=batch, table=PAYOUT_BATCH_TABLE, to_status=target, actor=actor, reason=reason,
            organisation_id=batch.organisation_id, apply=apply,
        )  # fmt: skip
        if target == S.EXECUTING:
            from payments.payouts.tasks import payout_batch_send

            enqueue(payout_batch_send, batch.pk, key=f"payout-batch-send:{batch.pk}:{batch.attempts}")
        return batch


def _schedule_sms(line_ids: list[int]) -> None:
    from payments.payouts.tasks import payout_sms_send

    for line_id in line_ids:
        enqueue(payout_sms_send, line_id, key=f"payout-sms:{line_id}")


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


def _payout_key(line: PayoutLine, attempt: int) -> str:
    return f"payout:{line.pk}" if attempt <= 1 else f"payout:{line.pk}:{attempt}"


def _execute_begin(actor: User, batch: PayoutBatch) -> None:
    """Record the attempt before the provider is called: each member's net leaves their member_payable for the
    provider clearing account (so it cannot be paid twice), and the batch names its provider."""
    batch.attempts += 1
    batch.provider = payout_provider().name
    batch.error = ""
    now = timezone.now()
    with audit_batch():
        for line in batch.lines.select_for_update().filter(net_amount__gt=0).order_by("pk"):

            def send(line: PayoutLine) -> None:
                _post_payout(actor, batch, line, _payout_key(line, batch.attempts))
                line.sent_at = now

            payout_line_transition(
                actor=actor, line=line, to_status=PayoutLine.Status.SENT, organisation_id=batch.organisation_id,
                apply=send, update_fields=["payout_transaction", "sent_at"],
            )  # fmt: skip


def _post_payout(actor, batch: PayoutBatch, line: PayoutLine, key: str) -> None:
    clearing = account_get_or_create(kind=K.PROVIDER_CLEARING, currency=batch.currency)
    payable = account_get_or_create(kind=K.MEMBER_PAYABLE, currency=batch.currency, farmer_id=line.farmer_id)
    line.payout_transaction = ledger_post(
        actor=actor,
        kind="payout",
        idempotency_key=key,
        lines=[(payable, line.net_amount), (clearing, -line.net_amount)],
        memo=f"Payout {line.send_reference}",
    )


def _in_flight(batch: PayoutBatch, *, lock: bool = False) -> list[PayoutLine]:
    """The lines sent (posted) whose outcome is not recorded yet; locked for update when `lock`."""
    lines = batch.lines.select_for_update() if lock else batch.lines.all()
    return list(lines.filter(status=PayoutLine.Status.SENT, net_amount__gt=0).order_by("pk"))


def _instructions(batch: PayoutBatch, lines: list[PayoutLine]) -> list[PayoutInstruction]:
    return [
        PayoutInstruction(line_id=line.pk, phone=line.phone, amount=batch.money(line.net_amount),
                          reference=line.send_reference)
        for line in lines
    ]  # fmt: skip


SENDING = (S.EXECUTING, S.EXECUTED)  # an executed batch may still have lines retried after a failure


def payout_batch_send(*, batch_id: int) -> str:
    """Pay an executing batch's members (or the lines retried in an executed batch) through the payout provider,
    with no database lock held during the call; then record the outcome in a new transaction. Returns
    executed | paid | failed | unknown | nothing_to_do."""
    batch = PayoutBatch.objects.filter(pk=batch_id).first()
    if batch is None or batch.status not in SENDING:
        return "nothing_to_do"
    lines = _in_flight(batch)
    if not lines and batch.status == S.EXECUTED:
        return "nothing_to_do"
    try:
        results = {result.line_id: result for result in payout_provider().pay(_instructions(batch, lines))}
    except PayoutRefused as error:
        message = str(error) or "refused by the payout provider"
        if batch.status == S.EXECUTING:
            return _send_refused(batch_id, message)
        return _record_outcome(batch_id, paid={}, failed=[line.pk for line in lines], message=message)
    except Exception as error:  # no definite answer: the task retries with the same references
        PayoutBatch.objects.filter(pk=batch_id).update(error=(str(error) or type(error).__name__)[:300])
        return "unknown"
    missing = [line.send_reference for line in lines if line.pk not in results]
    if missing:
        PayoutBatch.objects.filter(pk=batch_id).update(error=f"The provider did not confirm {', '.join(missing)}"[:300])
        return "unknown"
    return _record_outcome(batch_id, paid=results, failed=[], message="")


def _record_outcome(batch_id: int, *, paid: dict, failed: list[int], message: str) -> str:
    """Record what the provider paid and what it did not (a failed line's posting is reversed: the member is owed
    it again). An executing batch becomes executed. Returns executed | paid | failed | nothing_to_do."""
    with transaction.atomic():
        batch = PayoutBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status not in SENDING:
            return "nothing_to_do"
        now = timezone.now()
        lines = [line for line in _in_flight(batch, lock=True) if line.pk in paid or line.pk in failed]
        if not lines and batch.status == S.EXECUTED:
            return "nothing_to_do"
        paid_ids, failed_lines = [], []
        with audit_batch():
            for line in lines:
                if line.pk in paid:
                    _line_paid(line, batch, paid[line.pk].provider_reference, now)
                    paid_ids.append(line.pk)
                else:
                    _line_failed(line, batch, message, now)
                    failed_lines.append(line)
        summary = {"paid": len(paid_ids), "failed": [line.send_reference for line in failed_lines]}
        if batch.status == S.EXECUTING:

            def executed(batch: PayoutBatch) -> dict:
                batch.executed_at = now
                batch.error = f"{len(failed_lines)} payment(s) failed: {message}"[:300] if failed_lines else ""
                _transfer_cooperative_part(batch)
                return _totals(batch) | summary

            transition_locked(
                obj=batch, table=PAYOUT_BATCH_TABLE, to_status=S.EXECUTED, actor=batch.executed_by,
                organisation_id=batch.organisation_id, apply=executed,
            )  # fmt: skip
            sms = [line.pk for line in batch.lines.all() if line.pk not in {f.pk for f in failed_lines}]
            outcome = "executed"
        else:
            batch.error = f"{len(failed_lines)} payment(s) failed: {message}"[:300] if failed_lines else ""
            batch.save(update_fields=["error"])
            audit_record(
                actor=None, action="payout_batch.lines_settled", subject=batch, organisation_id=batch.organisation_id,
                data=summary,
            )  # fmt: skip
            sms = paid_ids
            outcome = "failed" if failed_lines and not paid_ids else "paid"
        if failed_lines:
            operator_alert(
                kind="payout_lines_failed",
                message=f"Payout batch {batch.reference}: the provider has no payment for "
                f"{', '.join(line.send_reference for line in failed_lines)} ({message}); those members are owed "
                "their money again. Retry the failed payments once the cause is fixed.",
            )
        _schedule_sms(sms)
    return outcome


def _line_paid(line: PayoutLine, batch: PayoutBatch, provider_reference: str, now) -> None:
    def paid(line: PayoutLine) -> None:
        line.paid_at = now
        line.provider_reference = provider_reference[:100]
        line.error = ""

    payout_line_transition(
        actor=None, line=line, to_status=PayoutLine.Status.PAID, organisation_id=batch.organisation_id, apply=paid,
        update_fields=["paid_at", "provider_reference", "error"],
    )  # fmt: skip


def _line_failed(line: PayoutLine, batch: PayoutBatch, message: str, now) -> None:
    def failed(line: PayoutLine) -> None:
        posted = LedgerTransaction.objects.filter(pk=line.payout_transaction_id).first()
        if posted is not None and not hasattr(posted, "reversed_by"):
            ledger_reverse(actor=None, transaction_id=posted.pk, reason=f"Payout failed: {message}"[:300])
        line.payout_transaction = None
        line.failed_at = now
        line.error = message[:300]

    payout_line_transition(
        actor=None, line=line, to_status=PayoutLine.Status.FAILED, organisation_id=batch.organisation_id,
        reason=message, apply=failed, update_fields=["payout_transaction", "failed_at", "error"],
    )  # fmt: skip


def payout_batch_settle(*, batch_id: int) -> str:
    """Settle the lines of a batch still in flight long after their send (the task's retries are over): ask the
    provider by our references, with no lock held. What it paid is recorded paid, what it has no payment for is
    failed (its posting reversed), and an executing batch becomes executed. Returns what `_record_outcome` does,
    or unknown when the provider cannot be asked."""
    batch = PayoutBatch.objects.filter(pk=batch_id).first()
    if batch is None or batch.status not in SENDING:
        return "nothing_to_do"
    lines = _in_flight(batch)
    if not lines:
        if batch.status == S.EXECUTING:  # nothing to pay (every line is zero): executed as it is
            return _record_outcome(batch_id, paid={}, failed=[], message="")
        return "nothing_to_do"
    try:
        found = {result.line_id: result for result in payout_provider().find(_instructions(batch, lines))}
    except Exception as error:
        PayoutBatch.objects.filter(pk=batch_id).update(error=f"Settling could not ask: {error}"[:300])
        return "unknown"
    return _record_outcome(
        batch_id,
        paid={pk: result for pk, result in found.items() if pk in {line.pk for line in lines}},
        failed=[line.pk for line in lines if line.pk not in found],
        message="the payout provider has no payment under our reference",
    )


def payouts_settle_due(*, minutes: int) -> list[int]:
    """Batches with a line sent more than `minutes` ago and still without an outcome."""
    cutoff = timezone.now() - timedelta(minutes=minutes)
    return sorted(
        set(
            PayoutLine.objects.filter(batch__status__in=SENDING, net_amount__gt=0, status=PayoutLine.Status.SENT)
            .filter(Q(sent_at__lt=cutoff) | Q(sent_at__isnull=True))  # sent before sends were timed: long ago
            .values_list("batch_id", flat=True)
        )
    )  # fmt: skip


def payout_lines_retry(*, actor: User, batch_id: int, reason: str) -> PayoutBatch:
    """Retry the failed payments of an executed batch (the platform operator, or the cooperative's managers):
    each is posted again and sent as a new payment with its own reference (`<reference>-R<n>`, the provider's
    idempotency key); the task pays them after the commit. Nothing failed is a 409."""
    reason = str(reason or "").strip()
    if not 1 <= len(reason) <= 300:
        raise ValidationFailed(
            "Say why the failed payments can be sent again (what was fixed), 1 to 300 characters.",
            fields={"reason": "Required, at most 300 characters."},
        )
    with transaction.atomic():
        if is_operator(actor):
            batch = PayoutBatch.objects.select_for_update().filter(pk=batch_id).first()
            if batch is None:
                raise NotFound("No such payout batch.")
        else:
            batch = _decide(actor, batch_id)
        failed = list(
            batch.lines.select_for_update().filter(status=PayoutLine.Status.FAILED, net_amount__gt=0).order_by("pk")
        )
        if batch.status != S.EXECUTED or not failed:
            raise Conflict(
                gettext("Payout batch %(reference)s has no failed payment to retry.") % {"reference": batch.reference}
            )
        now = timezone.now()

        def resend(line: PayoutLine) -> dict:
            line.retries += 1
            _post_payout(actor, batch, line, f"payout:{line.pk}:retry:{line.retries}")
            line.failed_at, line.error, line.sent_at = None, "", now
            return {"retry": line.retries}

        with audit_batch():
            for line in failed:
                payout_line_transition(
                    actor=actor, line=line, to_status=PayoutLine.Status.SENT, organisation_id=batch.organisation_id,
                    reason=reason, apply=resend,
                    update_fields=["retries", "payout_transaction", "failed_at", "error", "sent_at"],
                )  # fmt: skip
        batch.error = ""
        batch.save(update_fields=["error"])
        from payments.payouts.tasks import payout_batch_send as send_task

        enqueue(send_task, batch.pk, key=f"payout-retry:{failed[0].pk}:{failed[0].retries}")
    return batch


def _send_refused(batch_id: int, message: str) -> str:
    """The provider paid none of the batch: reverse the members' payout postings and put the batch back to
    approved, so its managers can execute it again (or cancel it) once the cause is fixed."""
    with transaction.atomic():
        batch = PayoutBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status != S.EXECUTING:
            return "nothing_to_do"

        def unsent(line: PayoutLine) -> None:
            posted = line.payout_transaction
            if posted is not None and not hasattr(posted, "reversed_by"):
                ledger_reverse(actor=None, transaction_id=posted.pk, reason=f"Payout refused: {message}"[:300])
            line.payout_transaction = None

        def back(batch: PayoutBatch) -> dict:
            batch.error = message[:300]
            sent = batch.lines.select_for_update(of=("self",)).select_related("payout_transaction")
            for line in sent.filter(status=PayoutLine.Status.SENT).order_by("pk"):
                payout_line_transition(
                    actor=None, line=line, to_status=PayoutLine.Status.PROPOSED, organisation_id=batch.organisation_id,
                    reason=message, apply=unsent, update_fields=["payout_transaction"],
                )  # fmt: skip
            return {"error": batch.error}

        transition_locked(
            obj=batch, table=PAYOUT_BATCH_TABLE, to_status=S.APPROVED, actor=None, reason=message[:300],
            organisation_id=batch.organisation_id, apply=back,
        )  # fmt: skip
        operator_alert(
            kind="payout_refused",
            message=f"The payout provider refused batch {batch.reference} ({message}); nothing was paid and the "
            "members' money is owed to them again.",
        )
    return "failed"


def _transfer_cooperative_part(batch: PayoutBatch) -> None:
    """What the members did not get is the cooperative's: the levy, and the input credit the batch recovered (the
    cooperative advanced those inputs; their posting credited its payable, see `payments.input_credit`). Send it to
    its payout account, shared over the batch's orders in proportion to their proceeds, one transfer per order."""
    retained = batch.proceeds_amount - batch.net_amount
    if retained <= 0:
        return
    batch_orders = list(batch.orders.order_by("order_id"))
    parts = allocate_largest_remainder(retained, [entry.amount for entry in batch_orders])
    for entry, part in zip(batch_orders, parts, strict=True):
        if part > 0:
            transfer_create(order_id=entry.order_id, amount=part)
