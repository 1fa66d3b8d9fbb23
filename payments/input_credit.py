"""Input credit: when a member collects inputs bought on credit (a group input order of a window that is on credit),
the member's share of the cost is posted as that member's input credit, which the next payout recovers first
(`payments.payouts.services.batches`).

Posting, kind "input_credit", key ``input_credit:<allocation id>``: debit the member's member_input_credit (the member
owes it) and credit the cooperative's organisation_payable (the cooperative advanced the inputs: what the member
repays is the cooperative's). The supplier itself was paid from the order's escrow, which the cooperative funded.
Orders names this task in settings.INPUT_CREDIT_SUBSCRIBERS and puts it in the outbox; it is idempotent.
"""

from celery import shared_task
from django.db import transaction

from orders.group_models import MemberAllocation
from payments.models import Account, LedgerTransaction
from payments.services.ledger import account_get_or_create, ledger_post

K = Account.Kind


@transaction.atomic
def input_credit_post(*, allocation_id: int) -> LedgerTransaction | None:
    allocation = (
        MemberAllocation.objects.select_related("group_order", "farmer", "line__product")
        .filter(pk=allocation_id, on_credit=True, handed_over_at__isnull=False, amount__gt=0)
        .first()
    )
    if allocation is None:
        return None
    group_order = allocation.group_order
    currency = group_order.currency
    credit = account_get_or_create(kind=K.MEMBER_INPUT_CREDIT, currency=currency, farmer_id=allocation.farmer_id)
    payable = account_get_or_create(kind=K.ORGANISATION_PAYABLE, currency=currency,
                                    organisation_id=group_order.buyer_id)  # fmt: skip
    return ledger_post(
        actor=allocation.handed_over_by,
        kind="input_credit",
        idempotency_key=f"input_credit:{allocation.pk}",
        lines=[(credit, allocation.amount), (payable, -allocation.amount)],
        memo=f"Input credit {allocation.receipt_number}: {allocation.line.product.name} for "
        f"{allocation.farmer.member_number}, group order {group_order.reference}",
    )


@shared_task(name="payments.input_credit_post")
def input_credit_post_task(allocation_id: int) -> str:
    posted = input_credit_post(allocation_id=allocation_id)
    return "posted" if posted else "nothing_to_post"
