"""The status of one member's payout line (house rule 3).

A line is proposed with its batch, sent when its net is posted to the provider clearing account and the provider is
asked, then paid, or failed when the provider has no payment under our reference (its posting reversed). A failed
line is sent again by a retry; a sent line goes back to proposed when the provider refused the whole batch (its
posting reversed, the batch back to approved). A line with nothing to pay (net 0) is never sent.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from marketplace.core.transitions import TransitionTable, transition_locked
from payments.payouts.models import PayoutLine

L = PayoutLine.Status

PAYOUT_LINE_TABLE = TransitionTable(
    "payout_line",
    {
        L.PROPOSED: {L.SENT},
        L.SENT: {L.PAID, L.FAILED, L.PROPOSED},
        L.PAID: set(),
        L.FAILED: {L.SENT},
    },
)


def payout_line_transition(
    *,
    actor: Any,
    line: PayoutLine,
    to_status: str,
    organisation_id: int,
    reason: str = "",
    data: Mapping[str, Any] | None = None,
    apply: Callable[[PayoutLine], Mapping[str, Any] | None] | None = None,
    update_fields: Iterable[str] = (),
) -> PayoutLine:
    """Move a payout line the caller has locked (`select_for_update`, under its batch's lock) in its transaction:
    checked against PAYOUT_LINE_TABLE, `apply` changes the other columns it names in `update_fields`, and the move
    is audited as `payout_line.<status>` with the line's reference (after `apply`) and net."""

    def applied(line: PayoutLine) -> dict[str, Any]:
        changed = apply(line) if apply is not None else None
        return {"reference": line.send_reference, "net": line.net_amount, **(changed or {})}

    return transition_locked(
        obj=line,
        table=PAYOUT_LINE_TABLE,
        to_status=to_status,
        actor=actor,
        reason=reason[:300],
        organisation_id=organisation_id,
        data=data,
        apply=applied,
        update_fields=list(update_fields),
        label=f"Payout {line.send_reference}",
    )
