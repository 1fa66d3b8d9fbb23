"""Demo member payouts: for each cooperative whose orders the payments demo released, one executed payout batch
(so member statements show deliveries, lots, sales, levy, credit and payments) and, when there is more than one
released order, a second batch proposed and waiting for approval.

Everything goes through `payments.payouts.services`. A cooperative that already has a payout batch is left as it
is, so running the seeder twice changes nothing. Without release transactions (the payments demo has not run, or
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
    cooperatives = Organisation.objects.filter(kind=Organisation.Kind.COOPERATIVE).order_by("pk")
    waiting = {coop: released_unbatched(organisation_id=coop.pk) for coop in cooperatives}
    waiting = {coop: rows for coop, rows in waiting.items() if rows}
    made = []
    for coop, rows in waiting.items():
        if PayoutBatch.objects.filter(organisation=coop).exists():
            continue
        manager = _decider(coop)
        if manager is None:
            continue
        order_ids = sorted(release.order_id for release, _amount, _currency in rows)
        try:
            batch = payout_batch_propose(actor=manager, organisation_id=coop.pk, order_ids=order_ids[:1])
            payout_batch_approve(actor=manager, batch_id=batch.pk)
            payout_batch_execute(actor=manager, batch_id=batch.pk)
            made.append(f"{batch.reference} executed ({coop.display_name or coop.legal_name})")
            if len(order_ids) > 1:
                pending = payout_batch_propose(actor=manager, organisation_id=coop.pk, order_ids=order_ids[1:])
                made.append(f"{pending.reference} proposed ({coop.display_name or coop.legal_name})")
        except (ValidationFailed, Conflict) as error:
            stdout.write(f"payouts: {coop.legal_name}: {error.message}\n")
    stdout.write(f"payouts: {', '.join(made)}\n" if made else "payouts: nothing new\n")
