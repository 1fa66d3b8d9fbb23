"""Demo member payouts: for each cooperative whose orders the payments demo released, one executed payout batch
(so member statements show deliveries, lots, sales, levy, credit and payments); the other batches the releases
proposed stay waiting for the manager's approval.

Everything goes through `payments.payouts.services`. A cooperative that already has a batch past proposal is left as
it is, so running the seeder twice changes nothing. Without release transactions (the payments demo has not run, or
released nothing) there is nothing to do.
"""

from __future__ import annotations

from typing import TextIO

from marketplace.core.errors import Conflict, ValidationFailed
from marketplace.organisations.models import Membership, Organisation
from marketplace.organisations.roles import Capability, role_can
from payments.models import LedgerTransaction
from payments.payouts.models import PayoutBatch
from payments.payouts.services import (
    payout_batch_approve,
    payout_batch_execute,
    payout_batch_propose,
    released_unbatched,
)


def _decider(organisation: Organisation):
    memberships = Membership.objects.filter(organisation=organisation).select_related("user").order_by("user__email")
    return next((m.user for m in memberships if role_can(m.role, Capability.DECIDE)), None)


def seed(*, stdout: TextIO) -> None:
    if not LedgerTransaction.objects.filter(kind="release").exists():
        stdout.write("payouts: no released order to pay out yet, nothing to do\n")
        return
    made = []
    for coop in Organisation.objects.filter(kind=Organisation.Kind.COOPERATIVE).order_by("pk"):
        try:
            made.extend(_seed_cooperative(coop))
        except (ValidationFailed, Conflict) as error:
            stdout.write(f"payouts: {coop.legal_name}: {error.message}\n")
    stdout.write(f"payouts: {', '.join(made)}\n" if made else "payouts: nothing new\n")


def _seed_cooperative(coop: Organisation) -> list[str]:
    """Pay one batch out so member statements show a payment; leave the rest proposed for the manager to approve.

    Releases propose their batch on commit, so by now a cooperative usually has proposed batches and the seeder
    executes the oldest; a cooperative with released orders and no batch at all gets them proposed first.
    """
    batches = PayoutBatch.objects.filter(organisation=coop)
    if batches.exclude(status__in=[PayoutBatch.Status.PROPOSED, PayoutBatch.Status.CANCELLED]).exists():
        return []
    manager = _decider(coop)
    if manager is None:
        return []
    name = coop.display_name or coop.legal_name
    made = []
    oldest = batches.filter(status=PayoutBatch.Status.PROPOSED).order_by("pk").first()
    if oldest is None:
        rows = released_unbatched(organisation_id=coop.pk)
        if not rows:
            return []
        order_ids = sorted(release.order_id for release, _amount, _currency in rows)
        oldest = payout_batch_propose(actor=manager, organisation_id=coop.pk, order_ids=order_ids[:1])
        if len(order_ids) > 1:
            pending = payout_batch_propose(actor=manager, organisation_id=coop.pk, order_ids=order_ids[1:])
            made.append(f"{pending.reference} proposed ({name})")
    payout_batch_approve(actor=manager, batch_id=oldest.pk)
    payout_batch_execute(actor=manager, batch_id=oldest.pk)
    return [f"{oldest.reference} executed ({name})", *made]
